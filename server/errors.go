package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/auth"
	"messenger/chat"
	"messenger/fault"
	"messenger/gqlws"
	"messenger/ids"
	"messenger/realtime"
	"messenger/storage"
)

// presenter turns every error into a GraphQL error with extensions.code, in
// this one place, and adds the request's id as extensions.requestId.
// Unknown errors are logged with an id and shown only as INTERNAL with that
// id: never a stack trace or an internal message.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := present(ctx, log, err)
		if rid := requestID(ctx); rid != "" {
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["requestId"] = rid
		}
		return gerr
	}
}

func present(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	set := func(code fault.Code, msg string) *gqlerror.Error {
		gerr.Message = msg
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["code"] = string(code)
		return gerr
	}
	if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
		if strings.HasPrefix(gerr.Message, "exceeded token limit") {
			return set(codeTooLarge, "the document has too many tokens")
		}
		return gerr // parse and validation errors and refusals already carry a code
	}
	var ce *fault.Error
	switch {
	case errors.Is(err, auth.ErrAccountsUnavailable):
		return set(fault.Unavailable, "accounts cannot be looked up now; retry shortly with the same token")
	case errors.As(err, &ce) && ce.Message == "" && ce.Code == fault.NotFound:
		return set(fault.NotFound, "not found")
	case errors.As(err, &ce) && ce.Message == "" && ce.Code == fault.Unavailable:
		return set(fault.Unavailable, "a backend is unavailable; retry shortly")
	case errors.As(err, &ce) && ce.Message == "":
		return set(ce.Code, strings.ToLower(strings.ReplaceAll(string(ce.Code), "_", " ")))
	case errors.As(err, &ce):
		gerr = set(ce.Code, ce.Message)
		if ce.Field != "" {
			gerr.Extensions["field"] = ce.Field
		}
		for k, v := range ce.Extensions {
			gerr.Extensions[k] = v
		}
		return gerr
	case errors.Is(err, ids.ErrMalformed), errors.Is(err, storage.ErrNotFound):
		return set(fault.NotFound, "not found")
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, realtime.ErrUnavailable):
		return set(fault.Unavailable, "a backend is unavailable; retry shortly")
	case errors.Is(err, context.DeadlineExceeded):
		return set(fault.Unavailable, "the request timed out; retry shortly")
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		return set(fault.BadUserInput, gerr.Message) // argument coercion and the like
	}
	id := errorID()
	log.Error("internal error", "error_id", id, "request_id", requestID(ctx), "err", err, "path", gerr.Path.String())
	gerr = set("INTERNAL", fmt.Sprintf("internal error (id %s)", id))
	gerr.Extensions["errorId"] = id
	return gerr
}

// errorCode is the code the presenter would give err, for metrics and
// spans that see an error before it is presented (without logging it).
func errorCode(err error) string {
	var ce *fault.Error
	var ge *gqlerror.Error
	switch {
	case errors.As(err, &ce):
		return string(ce.Code)
	case errors.As(err, &ge) && ge.Extensions != nil:
		if c, ok := ge.Extensions["code"].(string); ok {
			return c
		}
	case errors.Is(err, ids.ErrMalformed), errors.Is(err, storage.ErrNotFound):
		return string(fault.NotFound)
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, realtime.ErrUnavailable), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, auth.ErrAccountsUnavailable):
		return string(fault.Unavailable)
	}
	return "INTERNAL"
}

func recoverer(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		id := errorID()
		log.Error("panic in resolver", "error_id", id, "request_id", requestID(ctx), "panic", fmt.Sprint(p))
		return &gqlerror.Error{Message: fmt.Sprintf("internal error (id %s)", id), Extensions: map[string]any{"code": "INTERNAL", "errorId": id}}
	}
}

func errorID() string { return newID() }

// streamEnd decides what a subscriber is told when its event stream fails:
// an expired cursor is an error for that subscription (the client resyncs
// with queries and subscribes again, on the same socket); a slow consumer
// or an unavailable backend closes the socket with 1013 "try again later"
// (the client reconnects and resumes from its last cursor); anything else
// closes with 4500.
func streamEnd(log *slog.Logger) func(error) gqlws.StreamEnd {
	return func(err error) gqlws.StreamEnd {
		var ce *fault.Error
		switch {
		case errors.As(err, &ce) && ce.Code == fault.CursorExpired:
			return gqlws.StreamEnd{Errors: gqlerror.List{{Message: ce.Message, Extensions: map[string]any{"code": string(fault.CursorExpired)}}}}
		case errors.Is(err, chat.ErrSlowConsumer):
			return gqlws.StreamEnd{CloseCode: gqlws.CloseTryAgainLater, Reason: "slow consumer: reconnect and resume from your last cursor"}
		case errors.As(err, &ce) && ce.Code == fault.Unavailable:
			return gqlws.StreamEnd{CloseCode: gqlws.CloseTryAgainLater, Reason: "event stream unavailable: reconnect and resume from your last cursor"}
		}
		log.Error("subscription stream failed", "err", err)
		return gqlws.StreamEnd{CloseCode: gqlws.CloseInternalServerError, Reason: "Internal server error"}
	}
}
