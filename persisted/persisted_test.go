package persisted_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"

	"messenger/persisted"
)

func TestManifestIDsAreTheSha256OfBodiesWithTheirFragments(t *testing.T) {
	m, err := persisted.BuildManifest(map[string]string{
		"a.graphql": `query A { me { ...U } } fragment U on User { id }`,
		"b.graphql": `mutation B { logIn(input: {username: "x", password: "y"}) { token } }`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Operations) != 2 {
		t.Fatalf("operations = %+v", m.Operations)
	}
	for _, op := range m.Operations {
		if op.ID != persisted.Hash(op.Body) {
			t.Errorf("%s: id is not the body's hash", op.Name)
		}
		if body, ok := m.Lookup(op.ID); !ok || body != op.Body {
			t.Errorf("%s: lookup by id failed", op.Name)
		}
	}
	if _, err := persisted.BuildManifest(map[string]string{"x.graphql": `{ me { id } }`}); err == nil {
		t.Error("an anonymous operation was accepted")
	}
	// A tampered manifest is refused at load.
	m.Operations[0].Body += " "
	b, _ := json.Marshal(m)
	path := filepath.Join(t.TempDir(), "m.json")
	os.WriteFile(path, b, 0o600)
	if _, err := persisted.LoadManifest(path); err == nil {
		t.Error("a manifest whose id does not match its body was loaded")
	}
}

func TestPartnersCannotRegisterOrSendText(t *testing.T) {
	ext := persisted.Extension{Cache: lru.New[string](10)}
	ctx := persisted.WithPartner(graphql.WithOperationContext(context.Background(), &graphql.OperationContext{}), "acme")
	q := `{ me { id } }`
	p := &graphql.RawParams{Query: q, Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash(q)}}}
	if err := ext.MutateOperationParameters(ctx, p); err == nil || err.Extensions["code"] != persisted.CodeNotAllowed {
		t.Fatalf("partner APQ registration: %v", err)
	}
	if _, ok := ext.Cache.Get(ctx, persisted.Hash(q)); ok {
		t.Fatal("a partner registered a query")
	}
}
