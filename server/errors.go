package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/chat"
	"messenger/ids"
	"messenger/realtime"
	"messenger/storage"
)

// presenter turns every error into a GraphQL error with extensions.code, in
// this one place. Unknown errors are logged with an id and shown only as
// INTERNAL with that id: never a stack trace or an internal message.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
			return gerr // parse and validation errors already carry a code
		}
		set := func(code chat.Code, msg string) *gqlerror.Error {
			gerr.Message = msg
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["code"] = string(code)
			return gerr
		}
		var ce *chat.Error
		switch {
		case errors.As(err, &ce):
			set(ce.Code, ce.Message)
			if ce.Field != "" {
				gerr.Extensions["field"] = ce.Field
			}
			return gerr
		case errors.Is(err, ids.ErrMalformed), errors.Is(err, storage.ErrNotFound):
			return set(chat.NotFound, "not found")
		case errors.Is(err, storage.ErrUnavailable), errors.Is(err, realtime.ErrUnavailable):
			return set(chat.Unavailable, "a backend is unavailable; retry shortly")
		case errors.Is(err, context.DeadlineExceeded):
			return set(chat.Unavailable, "the request timed out; retry shortly")
		}
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			return set(chat.BadUserInput, gerr.Message) // argument coercion and the like
		}
		id := errorID()
		log.Error("internal error", "error_id", id, "err", err, "path", gerr.Path.String())
		set("INTERNAL", fmt.Sprintf("internal error (id %s)", id))
		gerr.Extensions["errorId"] = id
		return gerr
	}
}

func recoverer(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		id := errorID()
		log.Error("panic in resolver", "error_id", id, "panic", fmt.Sprint(p))
		return &gqlerror.Error{Message: fmt.Sprintf("internal error (id %s)", id), Extensions: map[string]any{"code": "INTERNAL", "errorId": id}}
	}
}

func errorID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
