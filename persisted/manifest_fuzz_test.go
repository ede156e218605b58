package persisted_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"messenger/persisted"
)

// FuzzParseManifest: a manifest file is read at start from an operator's
// path, but it is still bytes from outside. Parsing never panics, and a
// manifest it accepts serves exactly the bodies whose sha256 are their ids.
func FuzzParseManifest(f *testing.F) {
	body := `query Me { me { id } }`
	for _, seed := range []string{
		`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + persisted.Hash(body) + `","name":"Me","type":"query","body":"query Me { me { id } }"}]}`,
		`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"` + strings.ToUpper(persisted.Hash(body)) + `","body":"query Me { me { id } }"}]}`,
		`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"00","body":"x"}]}`,
		`{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`,
		`{"format":"apollo-persisted-query-manifest","version":1,"operations":null}`,
		`{"format":"apollo-persisted-query-manifest","version":1,"operations":[null]}`,
		`{"operations":[{"id":1}]}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := persisted.ParseManifest(b)
		if err != nil {
			return
		}
		if m.Len() > len(m.Operations) {
			t.Fatalf("%d documents from %d operations", m.Len(), len(m.Operations))
		}
		for _, op := range m.Operations {
			id := strings.ToLower(op.ID)
			if persisted.Hash(op.Body) != id {
				t.Fatalf("accepted %q under id %q", op.Body, op.ID)
			}
			if got, ok := m.Lookup(id); !ok || got != op.Body {
				t.Fatalf("lookup of %s: %q %v, want %q", id, got, ok, op.Body)
			}
		}
	})
}

// FuzzBuildManifest: building a manifest from .graphql text never panics,
// and what it builds loads back, each body parsing to the one named
// operation it was built from.
func FuzzBuildManifest(f *testing.F) {
	for _, seed := range []string{
		`query A { me { ...U } } fragment U on User { id }`,
		`query A { me { ...U } } fragment U on User { ...V } fragment V on User { id }`,
		`query A { me { ...U } } fragment U on User { ...U }`,
		`query A { x } query A { y }`,
		`{ me { id } }`,
		`query A { me { ...Missing } }`,
		`mutation B($i: LogInInput!) { logIn(input: $i) { token } } subscription C { events { cursor } }`,
		``, `query`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := persisted.BuildManifest(map[string]string{"ops.graphql": src})
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := persisted.ParseManifest(b)
		if err != nil {
			t.Fatalf("a built manifest does not load: %v\n%s", err, b)
		}
		for _, op := range m.Operations {
			if body, ok := loaded.Lookup(op.ID); !ok || body != op.Body {
				t.Fatalf("%s: not served after loading", op.Name)
			}
			doc, err := parser.ParseQuery(&ast.Source{Input: op.Body})
			if err != nil || len(doc.Operations) != 1 || doc.Operations[0].Name != op.Name {
				t.Fatalf("%s: body does not parse to that one operation: %v\n%s", op.Name, err, op.Body)
			}
		}
	})
}
