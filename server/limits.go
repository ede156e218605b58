package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/ratelimit"
	"messenger/ratelimit/memlimit"
)

// Codes of refusals made before execution.
const (
	codeTooDeep      = "QUERY_TOO_DEEP"
	codeTooComplex   = "QUERY_TOO_COMPLEX"
	codeTooManyAlias = "TOO_MANY_ALIASES"
	codeTooLarge     = "QUERY_TOO_LARGE"
	codeRateLimited  = "RATE_LIMITED"
	// codeIntrospection: introspection is off (MESSENGER_ENV=production).
	codeIntrospection = "INTROSPECTION_DISABLED"
)

// Limits bound what one operation may ask for and how often. Zero values
// are the documented defaults.
type Limits struct {
	// MaxDepth caps field nesting, fragments expanded (default 12;
	// introspection fields are not counted).
	MaxDepth int
	// MaxComplexity caps an operation's cost: each field costs 1, and a
	// field taking first/last multiplies its selection's cost by that
	// count (its default when not given) (default 5,000).
	MaxComplexity int
	// MaxAliases caps the aliased fields of one operation (default 200).
	MaxAliases int
	// MaxTokens caps the lexical tokens of a document (default 5,000).
	MaxTokens int
	// MaxBatch caps the operations of one batched HTTP request (a JSON
	// array body); the batch as a whole is also held to MaxComplexity,
	// MaxAliases and MaxTokens, and to Timeout (default 10).
	MaxBatch int
	// Timeout bounds a query or mutation (default 15 s).
	Timeout time.Duration
	// Send limits sendMessage per user (default 20/s, burst 40).
	Send ratelimit.Rule
	// Edit limits editMessage and deleteMessage per user: each rewrites a
	// message for every member (default 5/s, burst 30).
	Edit ratelimit.Rule
	// React limits addReaction and removeReaction per user, one bucket for
	// both (default 5/s, burst 30).
	React ratelimit.Rule
	// Typing limits setTyping per user (default 2/s, burst 10).
	Typing ratelimit.Rule
	// Expensive limits, per user, operations costing more than
	// ExpensiveCost (default cost 500, 2/s, burst 10).
	Expensive     ratelimit.Rule
	ExpensiveCost int
	// Auth limits signUp and logIn (each a password hash) per client IP
	// (default 1/s, burst 10).
	Auth ratelimit.Rule
	// Limiter holds the buckets (default: in memory).
	Limiter ratelimit.Limiter
}

// anyRate reports whether any rate rule is set: without one, rate limits
// are off.
func (l *Limits) anyRate() bool {
	for _, r := range []ratelimit.Rule{l.Send, l.Edit, l.React, l.Typing, l.Auth, l.Expensive} {
		if r.Rate > 0 {
			return true
		}
	}
	return false
}

func (l *Limits) defaults() {
	setInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setInt(&l.MaxDepth, 12)
	setInt(&l.MaxComplexity, 5000)
	setInt(&l.MaxAliases, 200)
	setInt(&l.MaxTokens, 5000)
	setInt(&l.MaxBatch, 10)
	setInt(&l.ExpensiveCost, 500)
	if l.Timeout <= 0 {
		l.Timeout = 15 * time.Second
	}
	setRule := func(r *ratelimit.Rule, rate float64, burst int) {
		if r.Rate <= 0 || r.Burst <= 0 {
			*r = ratelimit.Rule{Rate: rate, Burst: burst}
		}
	}
	setRule(&l.Send, 20, 40)
	setRule(&l.Edit, 5, 30)
	setRule(&l.React, 5, 30)
	setRule(&l.Typing, 2, 10)
	setRule(&l.Expensive, 2, 10)
	setRule(&l.Auth, 1, 10)
	if l.Limiter == nil {
		l.Limiter = memlimit.New()
	}
}

// guard is the gqlgen extension that refuses an operation after validation
// and before any resolver: the HTTP method check, introspection, size
// limits (of the operation, and of its batch when it is one of several in
// a request), then rate limits (so a refused document costs no tokens).
// Every check sees the operation with its fragments expanded.
type guard struct {
	limits        Limits
	introspection bool
	onLimiterErr  func(error)
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = guard{}

func (guard) ExtensionName() string                   { return "Guard" }
func (guard) Validate(graphql.ExecutableSchema) error { return nil }

func (g guard) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Operation
	switch method := httpMethod(ctx); {
	case method == http.MethodGet && op.Operation != ast.Query:
		return refusal(codeMethodNotAllowed, "only queries may use GET: send "+string(op.Operation)+"s with POST")
	case method != "" && op.Operation == ast.Subscription:
		return refusal(codeBadRequest, "subscriptions need a websocket (graphql-transport-ws) on this same URL")
	}
	rc.DisableIntrospection = !g.introspection
	m := measure(rc.Doc, op, rc.Variables)
	if err := g.checkShape(m); err != nil {
		return err
	}
	if b := batchOf(ctx); b != nil {
		if err := b.add(g.limits, m, rc.RawQuery); err != nil {
			return err
		}
	}
	return g.takeRates(ctx, m)
}

// checkShape refuses an operation too large in one dimension.
func (g guard) checkShape(m shape) *gqlerror.Error {
	switch {
	case m.introspection && !g.introspection:
		return refusal(codeIntrospection, "introspection is off in production")
	case m.depth > g.limits.MaxDepth:
		return refusal(codeTooDeep, fmt.Sprintf("the operation is %d fields deep; the limit is %d", m.depth, g.limits.MaxDepth))
	case m.aliases > g.limits.MaxAliases:
		return refusal(codeTooManyAlias, fmt.Sprintf("the operation has %d aliases; the limit is %d", m.aliases, g.limits.MaxAliases))
	case m.cost > g.limits.MaxComplexity:
		return refusal(codeTooComplex, fmt.Sprintf("the operation costs %d; the limit is %d (lists count first/last times)", m.cost, g.limits.MaxComplexity))
	}
	return nil
}

func refusal(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}
