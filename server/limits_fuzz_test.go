package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"messenger/graph"
	"messenger/ratelimit"
)

// maxChecks is the auth burst the fuzz target gives the guard.
const maxChecks = 3

// FuzzLimitsNeverLetMorePasswordChecksThrough feeds documents to the limit
// checker. It must never panic, on any document that parses (validated or
// not); and for a document that validates, it must never let through an
// operation in which the executor would run more than maxChecks logIn or
// signUp fields, nor count fewer rated root fields than the executor runs.
// The executor's view is gqlgen's own CollectFields, which honours
// fragments, type conditions, @skip and @include.
func FuzzLimitsNeverLetMorePasswordChecksThrough(f *testing.F) {
	login := func(alias string) string {
		return alias + `: logIn(input: {username: "u", password: "p"}) { token }`
	}
	logins := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(login(fmt.Sprintf("a%d", i)) + " ")
		}
		return b.String()
	}
	for _, seed := range []string{
		`mutation { ` + logins(4) + ` }`,
		`mutation { ... on Mutation { ` + logins(4) + ` } }`,
		`mutation { ...F } fragment F on Mutation { ` + logins(4) + ` }`,
		`mutation { ...F ...F } fragment F on Mutation { ` + logins(2) + ` }`,
		`mutation { ... on Mutation { ...A } } fragment A on Mutation { ... { ...B } } fragment B on Mutation { ` + logins(4) + ` }`,
		`mutation($s: Boolean = true) { ` + login("x") + ` y: logIn(input: {username: "u", password: "p"}) @skip(if: $s) { token } ... @include(if: $s) { ` + logins(3) + ` } }`,
		`mutation { logIn(input: {username: "u", password: "p"}) { token } logIn(input: {username: "u", password: "p"}) { token } }`,
		`mutation { s: signUp(input: {username: "u", password: "p", displayName: "d"}) { token } ` + logins(3) + ` }`,
		`mutation M { ` + logins(2) + ` } mutation N { ` + logins(5) + ` }`,
		`query { me { id } }`,
		`{ __schema { types { name } } }`,
		`mutation { ...F } fragment F on Mutation { ...F }`,
		`mutation { ...Missing }`,
		`{ a { a { a { a { a { a { a { a { a { a { a { a { a { a } } } } } } } } } } } } } }`,
		`query($n: Int = 99999999999) { conversations(first: $n) { edges { cursor } } }`,
		"",
		"{",
	} {
		f.Add(seed)
	}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: src}, 5000)
		if err != nil || doc == nil {
			return
		}
		for _, op := range doc.Operations {
			measure(doc, op, nil) // unvalidated: must not panic
		}
		if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
			return
		}
		for _, op := range doc.Operations {
			vars, err := validator.VariableValues(schema, op, nil)
			if err != nil {
				continue // gqlgen refuses it before the guard
			}
			rc := &graphql.OperationContext{Doc: doc, Operation: op, Variables: vars, RawQuery: src}
			runs := 0
			if op.Operation == ast.Mutation {
				for _, cf := range graphql.CollectFields(rc, op.SelectionSet, []string{"Mutation"}) {
					if cf.Name == "logIn" || cf.Name == "signUp" {
						runs++
					}
				}
			}
			if counted := measure(doc, op, vars).rated[bucketAuth]; counted < runs {
				t.Fatalf("counted %d password checks where the executor runs %d:\n%s", counted, runs, src)
			}
			g := guard{
				limits:        Limits{Auth: ratelimit.Rule{Rate: 0.001, Burst: maxChecks}, MaxComplexity: 1 << 30, MaxDepth: 1 << 30, MaxAliases: 1 << 30},
				introspection: true,
				onLimiterErr:  func(err error) { t.Fatal(err) },
			}
			g.limits.defaults()
			if refused := g.MutateOperationContext(context.Background(), rc); refused == nil && runs > maxChecks {
				t.Fatalf("let through %d password checks with a burst of %d:\n%s", runs, maxChecks, src)
			}
		}
	})
}
