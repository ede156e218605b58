// Package schemadiff governs the public GraphQL schema: it prints a schema
// deterministically (the committed snapshot, schema/snapshot.graphql), and
// compares two schemas, classifying each difference as breaking (an
// existing client operation may stop validating or get a value it cannot
// read) or safe.
package schemadiff

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// LoadFiles parses and validates the SDL files matching glob (e.g.
// "schema/*.graphqls") as one schema, in file name order.
func LoadFiles(glob string) (*ast.Schema, error) {
	names, err := filepath.Glob(glob)
	if err != nil {
		return nil, fmt.Errorf("schemadiff: list %s: %w", glob, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("schemadiff: no schema files match %s", glob)
	}
	sort.Strings(names)
	var srcs []*ast.Source
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("schemadiff: read schema: %w", err)
		}
		srcs = append(srcs, &ast.Source{Name: n, Input: string(b)})
	}
	return load(srcs...)
}

// Load parses and validates one SDL document (a snapshot, or a schema in a
// test).
func Load(name, sdl string) (*ast.Schema, error) {
	return load(&ast.Source{Name: name, Input: sdl})
}

func load(srcs ...*ast.Source) (*ast.Schema, error) {
	s, err := gqlparser.LoadSchema(srcs...)
	if err != nil {
		return nil, fmt.Errorf("schemadiff: load schema: %w", err)
	}
	return s, nil
}

// Print renders the schema as SDL, the same text whatever the order of its
// files and of the definitions in them: types and directives by name,
// fields, input fields, enum values, union members and interfaces sorted
// by name (arguments keep their declared order). Built-in scalars and
// directives are left out. The schema is not modified.
func Print(s *ast.Schema) string {
	c := *s
	c.Types = make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		d := *def
		d.Fields = slices.Clone(def.Fields)
		slices.SortFunc(d.Fields, func(a, b *ast.FieldDefinition) int { return strings.Compare(a.Name, b.Name) })
		d.EnumValues = slices.Clone(def.EnumValues)
		slices.SortFunc(d.EnumValues, func(a, b *ast.EnumValueDefinition) int { return strings.Compare(a.Name, b.Name) })
		d.Types = slices.Sorted(slices.Values(def.Types))
		d.Interfaces = slices.Sorted(slices.Values(def.Interfaces))
		c.Types[name] = &d
	}
	c.Directives = map[string]*ast.DirectiveDefinition{}
	for name, d := range s.Directives {
		if !builtIn(d.Position) {
			c.Directives[name] = d
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# The public schema, printed by `make schema-snapshot` from schema/*.graphqls.\n")
	buf.WriteString("# Do not edit: `go test ./cmd/schemacheck` fails when it differs from the schema.\n\n")
	formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchema(&c)
	// A blank line after each block, for people reading a diff of it.
	return strings.TrimRight(strings.ReplaceAll(buf.String(), "\n}\n", "\n}\n\n"), "\n") + "\n"
}

func builtIn(p *ast.Position) bool { return p != nil && p.Src != nil && p.Src.BuiltIn }
