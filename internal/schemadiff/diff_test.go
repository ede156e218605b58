package schemadiff

import (
	"github.com/vektah/gqlparser/v2/ast"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := Load("test.graphqls", sdl)
	if err != nil {
		t.Fatalf("load %q: %v", sdl, err)
	}
	return s
}

// Each case changes one thing in a small schema; the classifier must name
// it by coordinate and class it as a client would feel it.
var cases = []struct {
	name     string
	old, new string
	class    Class
	coord    string
}{
	// Breaking.
	{"removed type", `type Query { a: Int } type Gone { x: Int }`, `type Query { a: Int }`, Breaking, "Gone"},
	{"type changed kind", `type Query { a: T } type T { x: Int }`, `type Query { a: T } interface T { x: Int }`, Breaking, "T"},
	{"removed field", `type Query { a: Int b: Int }`, `type Query { a: Int }`, Breaking, "Query.b"},
	{"removed argument", `type Query { a(x: Int): Int }`, `type Query { a: Int }`, Breaking, "Query.a(x:)"},
	{"added required argument", `type Query { a: Int }`, `type Query { a(x: Int!): Int }`, Breaking, "Query.a(x:)"},
	{"removed enum value", `type Query { a: E } enum E { X Y }`, `type Query { a: E } enum E { X }`, Breaking, "E.Y"},
	{"removed union member", `type Query { a: U } union U = A | B type A { x: Int } type B { x: Int }`,
		`type Query { a: U } union U = A type A { x: Int } type B { x: Int }`, Breaking, "U"},
	{"removed interface", `type Query { a: A } interface I { x: Int } type A implements I { x: Int }`,
		`type Query { a: A } interface I { x: Int } type A { x: Int }`, Breaking, "A"},
	{"output type made nullable", `type Query { a: Int! }`, `type Query { a: Int }`, Breaking, "Query.a"},
	{"output type changed", `type Query { a: Int }`, `type Query { a: String }`, Breaking, "Query.a"},
	{"output list became scalar", `type Query { a: [Int] }`, `type Query { a: Int }`, Breaking, "Query.a"},
	{"argument made required", `type Query { a(x: Int): Int }`, `type Query { a(x: Int!): Int }`, Breaking, "Query.a(x:)"},
	{"argument type changed", `type Query { a(x: Int): Int }`, `type Query { a(x: String): Int }`, Breaking, "Query.a(x:)"},
	{"added required input field", `type Query { a(i: I): Int } input I { x: Int }`,
		`type Query { a(i: I): Int } input I { x: Int y: Int! }`, Breaking, "I.y"},
	{"removed input field", `type Query { a(i: I): Int } input I { x: Int y: Int }`,
		`type Query { a(i: I): Int } input I { x: Int }`, Breaking, "I.y"},
	{"input field made required", `type Query { a(i: I): Int } input I { x: Int }`,
		`type Query { a(i: I): Int } input I { x: Int! }`, Breaking, "I.x"},
	{"removed root type", `type Query { a: Int } type Mutation { m: Int }`, `type Query { a: Int }`, Breaking, "schema"},
	{"removed directive", `directive @d on FIELD type Query { a: Int }`, `type Query { a: Int }`, Breaking, "@d"},

	// Safe.
	{"added type", `type Query { a: Int }`, `type Query { a: Int } type New { x: Int }`, Safe, "New"},
	{"added field", `type Query { a: Int }`, `type Query { a: Int b: Int }`, Safe, "Query.b"},
	{"added optional argument", `type Query { a: Int }`, `type Query { a(x: Int): Int }`, Safe, "Query.a(x:)"},
	{"added required argument with default", `type Query { a: Int }`, `type Query { a(x: Int! = 1): Int }`, Safe, "Query.a(x:)"},
	{"added enum value", `type Query { a: E } enum E { X }`, `type Query { a: E } enum E { X Y }`, Safe, "E.Y"},
	{"added union member", `type Query { a: U } union U = A type A { x: Int } type B { x: Int }`,
		`type Query { a: U } union U = A | B type A { x: Int } type B { x: Int }`, Safe, "U"},
	{"added interface", `type Query { a: A } interface I { x: Int } type A { x: Int }`,
		`type Query { a: A } interface I { x: Int } type A implements I { x: Int }`, Safe, "A"},
	{"output type made non-null", `type Query { a: Int }`, `type Query { a: Int! }`, Safe, "Query.a"},
	{"argument made optional", `type Query { a(x: Int!): Int }`, `type Query { a(x: Int): Int }`, Safe, "Query.a(x:)"},
	{"added optional input field", `type Query { a(i: I): Int } input I { x: Int }`,
		`type Query { a(i: I): Int } input I { x: Int y: Int }`, Safe, "I.y"},
	{"input field made optional", `type Query { a(i: I): Int } input I { x: Int! }`,
		`type Query { a(i: I): Int } input I { x: Int }`, Safe, "I.x"},
	{"field deprecated", `type Query { a: Int }`, `type Query { a: Int @deprecated(reason: "use b") }`, Safe, "Query.a"},
	{"description changed", `type Query { "old" a: Int }`, `type Query { "new" a: Int }`, Safe, "Query.a"},
	{"default changed", `type Query { a(x: Int = 1): Int }`, `type Query { a(x: Int = 2): Int }`, Safe, "Query.a(x:)"},
	{"added root type", `type Query { a: Int }`, `type Query { a: Int } type Subscription { s: Int }`, Safe, "schema"},
	{"added directive", `type Query { a: Int }`, `directive @d on FIELD type Query { a: Int }`, Safe, "@d"},
}

func TestEachChangeIsClassifiedByWhatAClientFeels(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changes := Diff(mustLoad(t, tc.old), mustLoad(t, tc.new))
			found := false
			for _, c := range changes {
				if c.Coordinate == tc.coord && c.Class == tc.class {
					found = true
				}
				if c.Class != tc.class {
					t.Errorf("unexpected %s change: %s", c.Class, c)
				}
			}
			if !found {
				t.Errorf("want a %s change at %s, got %v", tc.class, tc.coord, changes)
			}
			if HasBreaking(changes) != (tc.class == Breaking) {
				t.Errorf("HasBreaking = %v for %v", HasBreaking(changes), changes)
			}
		})
	}
}

func TestIdenticalSchemasHaveNoChanges(t *testing.T) {
	sdl := `"q" type Query { a(x: Int = 1, y: [String!]!): [E!] u: U } enum E { X Y } union U = A | B
		type A { x: Int } type B { x: Int @deprecated } input I { x: Int! }`
	if changes := Diff(mustLoad(t, sdl), mustLoad(t, sdl)); len(changes) != 0 {
		t.Fatalf("want no changes, got %v", changes)
	}
}

func TestPrintIsTheSameWhateverTheOrderOfDefinitions(t *testing.T) {
	a := mustLoad(t, `type Query { b: Int a: E } enum E { Y X } type Z implements I & H { x: Int } interface I { x: Int } interface H { x: Int }`)
	b := mustLoad(t, `interface H { x: Int } interface I { x: Int } type Z implements H & I { x: Int } enum E { X Y } type Query { a: E b: Int }`)
	if Print(a) != Print(b) {
		t.Fatalf("prints differ:\n%s\n---\n%s", Print(a), Print(b))
	}
	// A printed schema loads back to the same schema.
	if changes := Diff(a, mustLoad(t, Print(a))); len(changes) != 0 {
		t.Fatalf("printed schema differs from its source: %v", changes)
	}
}

func TestBreakingChangesMustBeNamedUnderUnreleased(t *testing.T) {
	changes := Diff(mustLoad(t, `type Query { a: Int b: Int c: Int }`), mustLoad(t, `type Query { a: String d: Int }`))
	changelog := "# Changelog\n\n## [Unreleased]\n\n### Removed\n- `Query.b` (deprecated since 2025-01).\n\n" +
		"## [1.0.0] - 2025-01-01\n- `Query.c` mentioned in an old release does not count.\n"
	var got []string
	for _, c := range Unannounced(changes, changelog) {
		got = append(got, c.Coordinate)
	}
	if strings.Join(got, ",") != "Query.a,Query.c" {
		t.Fatalf("unannounced = %v, want Query.a and Query.c (Query.b is named, Query.d is safe)", got)
	}
	if n := len(Unannounced(changes, "# Changelog\n")); n != 3 {
		t.Fatalf("with no Unreleased section every breaking change is unannounced, got %d", n)
	}
}
