package playground

import (
	"os"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"messenger/internal/schemadiff"
)

// Every GraphQL operation the page ships (the example tabs and the helper
// calls of the sign-in panel and the user picker) is a template literal
// starting with its keyword; none interpolates.
var operationLiteral = regexp.MustCompile("(?s)`((?:query|mutation|subscription)\\s.*?)`")

// The example tabs are what a developer pastes into graphql-codegen or a
// trusted-documents list: each operation is named and valid against the
// current schema, so a schema change that breaks an example fails here.
func TestPlaygroundOperationsAreNamedAndValid(t *testing.T) {
	schema, err := schemadiff.LoadFiles("../../schema/*.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"src/examples.js", "src/api.js", "src/UserPicker.jsx"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		literals := operationLiteral.FindAllStringSubmatch(string(src), -1)
		if len(literals) == 0 {
			t.Errorf("%s: no GraphQL operation found", file)
		}
		for _, m := range literals {
			doc, errs := gqlparser.LoadQueryWithRules(schema, m[1], nil)
			if errs != nil {
				t.Errorf("%s: an operation does not validate: %v\n%s", file, errs, m[1])
				continue
			}
			for _, op := range doc.Operations {
				if op.Name == "" {
					t.Errorf("%s: an anonymous %s: name it\n%s", file, op.Operation, m[1])
				}
			}
		}
	}
}
