package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
)

// A batch is a JSON array of operations in one POST, as Apollo's
// BatchHttpLink sends. Its operations run one after another and the answer
// is an array of their responses in the same order (status 200, each with
// its own errors). Every limit applies to each operation, and the batch as
// a whole is held to the limits of one operation: its total cost, aliases
// and tokens, and the request timeout. Rate limits draw from the same
// buckets for every operation, so a batch of 30 logIns takes 30 tokens.
// A batch longer than Limits.MaxBatch, or empty, is refused with 400
// BAD_REQUEST. Multipart requests (uploads) are not batched: gqlgen's
// transport refuses an operations array with 422.

// isBatch reports whether a JSON body is an array.
func isBatch(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

func (h httpTransport) serveBatch(ctx context.Context, w http.ResponseWriter, media string, header http.Header, body []byte, exec graphql.GraphExecutor) {
	var items []json.RawMessage
	if err := decodeJSON(body, &items); err != nil {
		writeRefusal(w, media, http.StatusBadRequest, codeBadRequest, "the body is not a JSON array of operations")
		return
	}
	switch {
	case len(items) == 0:
		writeRefusal(w, media, http.StatusBadRequest, codeBadRequest, "the batch is empty")
		return
	case len(items) > h.maxBatch:
		writeRefusal(w, media, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("a batch may hold at most %d operations; this one holds %d", h.maxBatch, len(items)))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, batchKey{}, &batch{}), h.timeout)
	defer cancel()
	out := make([]json.RawMessage, len(items))
	retry := 0
	for i, item := range items {
		params := &graphql.RawParams{Headers: header}
		params.ReadTime.Start = graphql.Now()
		var resp *graphql.Response
		if msg := paramsFromBody(item, params); msg != "" {
			resp = &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": codeBadRequest, "requestId": requestID(ctx)}}}}
		} else {
			params.ReadTime.End = graphql.Now()
			resp, _ = execute(ctx, params, exec)
		}
		if ra, err := strconv.Atoi(retryAfter(resp.Errors)); err == nil {
			retry = max(retry, ra)
		}
		b, err := encodeResponse(resp)
		if err != nil {
			b = internalErrorJSON
		}
		out[i] = b
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeBody(w, media, http.StatusInternalServerError, internalErrorJSON)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	writeBody(w, media, http.StatusOK, b)
}

type batchKey struct{}

// batch is what the operations of one batch have used so far.
type batch struct {
	mu                    sync.Mutex
	cost, aliases, tokens int
}

// batchOf is the batch an operation belongs to (nil when it is alone).
func batchOf(ctx context.Context) *batch {
	b, _ := ctx.Value(batchKey{}).(*batch)
	return b
}

// add counts an operation of shape m and text query against the batch's
// totals, or refuses it (counting nothing) when a total would go over its
// limit.
func (b *batch) add(l Limits, m shape, query string) *gqlerror.Error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cost, aliases := satAdd(b.cost, m.cost), satAdd(b.aliases, m.aliases)
	tokens := satAdd(b.tokens, countTokens(query, l.MaxTokens+1))
	switch {
	case aliases > l.MaxAliases:
		return refusal(codeTooManyAlias, fmt.Sprintf("the batch has %d aliases so far; the limit is %d", aliases, l.MaxAliases))
	case cost > l.MaxComplexity:
		return refusal(codeTooComplex, fmt.Sprintf("the batch costs %d so far; the limit is %d", cost, l.MaxComplexity))
	case tokens > l.MaxTokens:
		return refusal(codeTooLarge, fmt.Sprintf("the batch has %d tokens so far; the limit is %d", tokens, l.MaxTokens))
	}
	b.cost, b.aliases, b.tokens = cost, aliases, tokens
	return nil
}

// countTokens counts the lexical tokens of a document, stopping at limit.
func countTokens(query string, limit int) int {
	lx := lexer.New(&ast.Source{Input: query})
	n := 0
	for n < limit {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		n++
	}
	return n
}
