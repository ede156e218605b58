package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/auth"
	"messenger/ratelimit"
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
	// Timeout bounds a query or mutation (default 15 s).
	Timeout time.Duration
	// Send limits sendMessage per user (default 20/s, burst 40).
	Send ratelimit.Rule
	// Expensive limits, per user, operations costing more than
	// ExpensiveCost (default cost 500, 2/s, burst 10).
	Expensive     ratelimit.Rule
	ExpensiveCost int
	// Auth limits signUp and logIn per client IP (default 1/s, burst 10).
	Auth ratelimit.Rule
	// Limiter holds the buckets (default: in memory).
	Limiter ratelimit.Limiter
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
	setRule(&l.Expensive, 2, 10)
	setRule(&l.Auth, 1, 10)
	if l.Limiter == nil {
		l.Limiter = ratelimit.NewMemory()
	}
}

// guard is the gqlgen extension that refuses an operation after validation
// and before any resolver: the HTTP method check, introspection, size
// limits, then rate limits (so a refused document costs no tokens).
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
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		switch f.Name {
		case "sendMessage":
			if id, ok := auth.FromContext(ctx); ok {
				if err := g.take(ctx, "send:"+id.UserID, g.limits.Send); err != nil {
					return err
				}
			}
		case "signUp", "logIn":
			if err := g.take(ctx, "auth:"+clientIP(ctx), g.limits.Auth); err != nil {
				return err
			}
		}
	}
	if m.cost > g.limits.ExpensiveCost {
		key := "expensive:ip:" + clientIP(ctx)
		if id, ok := auth.FromContext(ctx); ok {
			key = "expensive:" + id.UserID
		}
		if err := g.take(ctx, key, g.limits.Expensive); err != nil {
			return err
		}
	}
	return nil
}

func (g guard) take(ctx context.Context, key string, r ratelimit.Rule) *gqlerror.Error {
	ok, wait, err := g.limits.Limiter.Allow(ctx, key, r)
	if err != nil {
		g.onLimiterErr(err)
		return nil // fail open: a broken limiter must not stop the API
	}
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	e := refusal(codeRateLimited, fmt.Sprintf("too many requests: retry in %d s", secs))
	e.Extensions["retryAfter"] = secs
	return e
}

func refusal(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// shape is what measure finds in an operation.
type shape struct {
	depth, cost, aliases int
	introspection        bool // selects __schema or __type
}

// measure walks an operation with its fragments expanded. Fragment results
// are memoised by name, so nested spreads cannot make it exponential.
func measure(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) shape {
	w := walker{doc: doc, vars: vars, frags: map[string]shape{}}
	return w.selections(op.SelectionSet)
}

type walker struct {
	doc   *ast.QueryDocument
	vars  map[string]any
	frags map[string]shape
}

func (w *walker) selections(set ast.SelectionSet) shape {
	var s shape
	for _, sel := range set {
		var c shape
		switch sel := sel.(type) {
		case *ast.Field:
			c = w.field(sel)
		case *ast.InlineFragment:
			c = w.selections(sel.SelectionSet)
		case *ast.FragmentSpread:
			var ok bool
			if c, ok = w.frags[sel.Name]; !ok {
				w.frags[sel.Name] = shape{} // a cycle (refused by validation) stops here
				if f := w.doc.Fragments.ForName(sel.Name); f != nil {
					c = w.selections(f.SelectionSet)
				}
				w.frags[sel.Name] = c
			}
		}
		s.depth = max(s.depth, c.depth)
		s.cost = satAdd(s.cost, c.cost)
		s.aliases += c.aliases
		s.introspection = s.introspection || c.introspection
	}
	return s
}

func (w *walker) field(f *ast.Field) shape {
	if f.Name == "__schema" || f.Name == "__type" {
		return shape{introspection: true} // allowed or refused as a whole
	}
	if strings.HasPrefix(f.Name, "__") {
		return shape{}
	}
	child := w.selections(f.SelectionSet)
	s := shape{depth: child.depth + 1, aliases: child.aliases, introspection: child.introspection}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases++
	}
	s.cost = satAdd(1, satMul(child.cost, w.listSize(f)))
	return s
}

// listSize is the first/last argument of a field (its default when not
// given; 1 for fields that take neither).
func (w *walker) listSize(f *ast.Field) int {
	if f.Definition == nil {
		return 1
	}
	n := 0
	args := f.ArgumentMap(w.vars)
	for _, name := range []string{"first", "last"} {
		if f.Definition.Arguments.ForName(name) == nil {
			continue
		}
		if v, ok := toInt(args[name]); ok && v > n {
			n = v
		}
	}
	if n <= 0 {
		if f.Definition.Arguments.ForName("first") != nil || f.Definition.Arguments.ForName("last") != nil {
			return 50 // a list with the domain's default page
		}
		return 1
	}
	return n
}

func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

func satMul(a, b int) int {
	if a != 0 && b > math.MaxInt32/a {
		return math.MaxInt32
	}
	return a * b
}
