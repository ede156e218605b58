package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/persisted"
)

// Media types of GraphQL over HTTP responses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Codes of refusals made by the HTTP transport itself.
const (
	codeBadRequest       = "BAD_REQUEST"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

// httpTransport serves GraphQL over HTTP as the GraphQL-over-HTTP spec
// says: POST with application/json bodies (multipart/form-data goes to
// gqlgen's upload transport), GET for queries, responses in
// application/graphql-response+json when the client accepts it and
// application/json otherwise, with the spec's status codes.
//
// A JSON array body is a batch (as Apollo's BatchHttpLink sends): see
// batch.go.
type httpTransport struct {
	multipart transport.MultipartForm
	// maxJSON caps a JSON body, and the operations and map fields of a
	// multipart request.
	maxJSON int64
	// maxBatch caps the operations of a batch; timeout bounds a whole batch.
	maxBatch int
	timeout  time.Duration
}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

type httpMethodKey struct{}

// httpMethod is the method of the HTTP request an operation came in ("" on
// a websocket): over GET only queries may run, and over HTTP no
// subscription (the method check runs before any limiter counts it).
func httpMethod(ctx context.Context) string { m, _ := ctx.Value(httpMethodKey{}).(string); return m }

func (h httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeRefusal(w, mediaJSON, http.StatusMethodNotAllowed, codeMethodNotAllowed, "use GET for queries or POST")
		return
	}
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRefusal(w, mediaJSON, http.StatusNotAcceptable, codeBadRequest, "accept application/graphql-response+json or application/json")
		return
	}
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	ctx := context.WithValue(r.Context(), httpMethodKey{}, r.Method)
	if r.Method == http.MethodGet {
		if status, msg := paramsFromQuery(r.URL.RawQuery, params); status != 0 {
			writeRefusal(w, media, status, codeBadRequest, msg)
			return
		}
	} else {
		ct, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case err == nil && ct == "multipart/form-data":
			if r, ok = boundMultipartJSON(w, r, media, h.maxJSON); ok {
				h.multipart.Do(w, r.WithContext(ctx), exec)
			}
			return
		case err != nil || ct != mediaJSON:
			writeRefusal(w, media, http.StatusUnsupportedMediaType, codeBadRequest, "send the operation as application/json")
			return
		case ctParams["charset"] != "" && !strings.EqualFold(ctParams["charset"], "utf-8"):
			writeRefusal(w, media, http.StatusUnsupportedMediaType, codeBadRequest, "the body must be utf-8")
			return
		}
		body, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeRefusal(w, media, http.StatusRequestEntityTooLarge, codeBadRequest, "request body too large")
			return
		case err != nil:
			writeRefusal(w, media, http.StatusBadRequest, codeBadRequest, "could not read the request body")
			return
		}
		if isBatch(body) {
			h.serveBatch(ctx, w, media, r.Header, body, exec)
			return
		}
		if msg := paramsFromBody(body, params); msg != "" {
			writeRefusal(w, media, http.StatusBadRequest, codeBadRequest, msg)
			return
		}
	}
	params.ReadTime.End = graphql.Now()

	resp, refused := execute(ctx, params, exec)
	status := http.StatusOK
	if refused {
		status = requestErrorStatus(media, resp.Errors)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "POST")
		}
		if ra := retryAfter(resp.Errors); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
	}
	writeResponse(w, media, status, resp)
}

// execute runs one operation; refused reports that it was refused before
// execution (parse, validation, limits, persisted queries).
func execute(ctx context.Context, params *graphql.RawParams, exec graphql.GraphExecutor) (resp *graphql.Response, refused bool) {
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs), true
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	return responses(ctx), false
}

// negotiate picks the response media type from Accept: the acceptable type
// with the highest q, the first listed on a tie; application/json when
// Accept is missing or only says */* or application/*.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, p, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := p["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		var m string
		switch mt {
		case mediaGraphQLResponse:
			m = mediaGraphQLResponse
		case mediaJSON, "*/*", "application/*":
			m = mediaJSON
		default:
			continue
		}
		if cs := p["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
			continue
		}
		if q > 0 && q > bestQ {
			best, bestQ = m, q
		}
	}
	return best, best != ""
}

func paramsFromQuery(raw string, params *graphql.RawParams) (int, string) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return http.StatusBadRequest, "malformed query string"
	}
	params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
	if v := q.Get("variables"); v != "" {
		if err := decodeJSON([]byte(v), &params.Variables); err != nil {
			return http.StatusBadRequest, "variables must be a JSON object"
		}
	}
	if v := q.Get("extensions"); v != "" {
		if err := decodeJSON([]byte(v), &params.Extensions); err != nil {
			return http.StatusBadRequest, "extensions must be a JSON object"
		}
	}
	if id := q.Get("documentId"); id != "" {
		setDocumentID(params, id)
	}
	if params.Query == "" && params.Extensions == nil {
		return http.StatusBadRequest, "missing the query parameter"
	}
	return 0, ""
}

func paramsFromBody(body []byte, params *graphql.RawParams) string {
	var req struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
		DocumentID    *string         `json:"documentId"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return "the body is not a JSON object with query, operationName, variables and extensions"
	}
	if req.Query != nil {
		params.Query = *req.Query
	}
	if req.OperationName != nil {
		params.OperationName = *req.OperationName
	}
	if !isNull(req.Variables) {
		if err := decodeJSON(req.Variables, &params.Variables); err != nil || params.Variables == nil {
			return "variables must be a JSON object"
		}
	}
	if !isNull(req.Extensions) {
		if err := decodeJSON(req.Extensions, &params.Extensions); err != nil || params.Extensions == nil {
			return "extensions must be a JSON object"
		}
	}
	if req.DocumentID != nil && *req.DocumentID != "" {
		setDocumentID(params, *req.DocumentID)
	}
	if params.Query == "" && params.Extensions == nil {
		return "missing the query parameter"
	}
	return ""
}

func setDocumentID(params *graphql.RawParams, id string) {
	if params.Extensions == nil {
		params.Extensions = map[string]any{}
	}
	params.Extensions[persisted.DocumentIDKey] = id
}

func isNull(b json.RawMessage) bool { return len(b) == 0 || string(b) == "null" }

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// requestErrorStatus is the status of a request refused before execution.
// In application/graphql-response+json every request error is a 4xx; in
// application/json, parse and validation errors are 200 (as the spec says
// for that media type) and the other refusals keep their status.
func requestErrorStatus(media string, errs gqlerror.List) int {
	code := ""
	if len(errs) > 0 && errs[0].Extensions != nil {
		code, _ = errs[0].Extensions["code"].(string)
	}
	switch code {
	case codeBadRequest:
		return http.StatusBadRequest
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeRateLimited:
		return http.StatusTooManyRequests
	case persisted.CodeNotAllowed:
		return http.StatusForbidden
	}
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func retryAfter(errs gqlerror.List) string {
	for _, e := range errs {
		if v, ok := e.Extensions["retryAfter"]; ok {
			if n, ok := v.(int); ok {
				return strconv.Itoa(n)
			}
		}
	}
	return ""
}

// writeResponse writes a response. One refused before execution has no
// data entry at all (the spec: "data" is absent when execution did not
// start); an executed one always has it, null or not.
func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	b, err := encodeResponse(resp)
	if err != nil {
		status, b = http.StatusInternalServerError, internalErrorJSON
	}
	writeBody(w, media, status, b)
}

var internalErrorJSON = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)

func encodeResponse(resp *graphql.Response) ([]byte, error) {
	if resp.Data == nil && len(resp.Errors) > 0 {
		return json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	}
	return json.Marshal(resp)
}

func writeBody(w http.ResponseWriter, media string, status int, b []byte) {
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeRefusal refuses a request before GraphQL runs, with the request's
// id in extensions.requestId like every other error: withRequestInfo has
// already set it as the X-Request-Id response header.
func writeRefusal(w http.ResponseWriter, media string, status int, code, msg string) {
	ext := map[string]any{"code": code}
	if id := w.Header().Get("X-Request-Id"); id != "" {
		ext["requestId"] = id
	}
	writeResponse(w, media, status, &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: ext}}})
}
