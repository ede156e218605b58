// Package persisted runs operations by id instead of by text: automatic
// persisted queries (APQ, as Apollo Client sends them in
// extensions.persistedQuery) for everyone, and trusted documents (a
// manifest in Apollo's persisted query manifest format) that are all a
// partner API key may run.
package persisted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-viper/mapstructure/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DocumentIDKey is the extensions key under which the transports hand over
// a request's top-level documentId ("sha256:<hex>").
const DocumentIDKey = "documentId"

// Error codes.
const (
	// CodeNotFound: the hash is unknown; send it again with the query.
	CodeNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodeNotAllowed: a partner sent a raw query, an unknown document id, or
	// tried to register a query.
	CodeNotAllowed = "PERSISTED_QUERY_NOT_ALLOWED"
	// CodeBadRequest: a malformed persistedQuery extension or a hash that
	// does not match its query.
	CodeBadRequest = "BAD_USER_INPUT"
	// CodeTooLarge: a document to register is over MaxDocumentBytes.
	CodeTooLarge = "QUERY_TOO_LARGE"
)

// DefaultMaxDocumentBytes is the largest document APQ registers unless
// Extension.MaxDocumentBytes says otherwise.
const DefaultMaxDocumentBytes = 64 << 10

// registerKey is the extensions key under which MutateOperationParameters
// leaves, for MutateOperationContext, the hash of a document to register
// once it has parsed and validated. A client's own value is removed first.
const registerKey = "messenger.persisted.register"

// Hash is the lowercase hex sha256 of a document: its APQ hash and its id
// in a manifest.
func Hash(doc string) string {
	b := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(b[:])
}

type partnerKey struct{}

// WithPartner marks ctx as a request made with a partner's API key.
func WithPartner(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, partnerKey{}, name)
}

// Partner returns the partner a request was made for, if any.
func Partner(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(partnerKey{}).(string)
	return p, ok
}

// Extension is the gqlgen extension that resolves persisted operations
// before parsing. Partner requests may only run Trusted documents, by id;
// everyone else may also use APQ or send text. An APQ document is
// registered in Cache only after it has parsed, validated and passed every
// operation context mutator used before this extension (use it after the
// limits), and only when it is at most MaxDocumentBytes.
type Extension struct {
	// Cache stores APQ documents by hash. Required.
	Cache graphql.Cache[string]
	// Trusted is the manifest (nil: none; then partners can run nothing).
	Trusted *Manifest
	// MaxDocumentBytes caps a document APQ registers (default
	// DefaultMaxDocumentBytes); a larger one is refused with
	// QUERY_TOO_LARGE, so the client learns to send it without
	// persistedQuery.
	MaxDocumentBytes int
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = Extension{}

func (e Extension) maxDocument() int {
	if e.MaxDocumentBytes <= 0 {
		return DefaultMaxDocumentBytes
	}
	return e.MaxDocumentBytes
}

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "PersistedOperations" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters replaces an id by its document, or refuses.
func (e Extension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	delete(p.Extensions, registerKey)
	docID, _ := p.Extensions[DocumentIDKey].(string)
	var apq struct {
		Sha256  string `mapstructure:"sha256Hash"`
		Version int64  `mapstructure:"version"`
	}
	hasAPQ := p.Extensions["persistedQuery"] != nil
	if hasAPQ {
		if err := mapstructure.Decode(p.Extensions["persistedQuery"], &apq); err != nil || apq.Version != 1 || apq.Sha256 == "" {
			return refusal(CodeBadRequest, "persistedQuery must be {version: 1, sha256Hash: <hex>}")
		}
		apq.Sha256 = strings.ToLower(apq.Sha256)
	}
	id := strings.ToLower(strings.TrimPrefix(docID, "sha256:"))
	if id == "" {
		id = apq.Sha256
	}

	if _, partner := Partner(ctx); partner {
		if id == "" {
			return refusal(CodeNotAllowed, "partner keys may only run trusted documents: send documentId \"sha256:<hash>\"")
		}
		body, ok := e.Trusted.Lookup(id)
		if !ok {
			return refusal(CodeNotAllowed, "document "+truncate(id)+" is not in the trusted documents")
		}
		if p.Query != "" && p.Query != body {
			return refusal(CodeNotAllowed, "partner keys may not send query text")
		}
		p.Query = body
		return nil
	}

	if id == "" {
		return nil // an ordinary request with its text
	}
	if p.Query != "" {
		if Hash(p.Query) != id {
			return refusal(CodeBadRequest, "the sha256Hash does not match the query")
		}
		if hasAPQ {
			if len(p.Query) > e.maxDocument() {
				return refusal(CodeTooLarge, fmt.Sprintf("a persisted query may be at most %d bytes: send this one without extensions.persistedQuery", e.maxDocument()))
			}
			p.Extensions[registerKey] = id
		}
		return nil
	}
	if body, ok := e.Trusted.Lookup(id); ok {
		p.Query = body
		return nil
	}
	if body, ok := e.Cache.Get(ctx, id); ok {
		p.Query = body
		return nil
	}
	return refusal(CodeNotFound, "PersistedQueryNotFound")
}

// MutateOperationContext registers the APQ document of a request that has
// parsed and validated.
func (e Extension) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	id, ok := rc.Extensions[registerKey].(string)
	if !ok {
		return nil
	}
	delete(rc.Extensions, registerKey)
	if Hash(rc.RawQuery) == id {
		e.Cache.Add(ctx, id, rc.RawQuery)
	}
	return nil
}

func refusal(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
