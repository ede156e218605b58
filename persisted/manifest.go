package persisted

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// ManifestFormat is the format field of Apollo's persisted query manifest.
const ManifestFormat = "apollo-persisted-query-manifest"

// Manifest is a set of trusted documents, in Apollo's persisted query
// manifest format. A nil *Manifest holds nothing.
type Manifest struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Operations []Operation `json:"operations"`

	byID map[string]string
}

// Operation is one trusted document: its id is the sha256 of its body.
type Operation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

// LoadManifest reads a manifest file (see ParseManifest).
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("persisted: read manifest: %w", err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("persisted: manifest %s: %w", path, err)
	}
	return m, nil
}

// ParseManifest reads a manifest in Apollo's persisted query manifest
// format, version 1. Every id must be its body's sha256 (in either case).
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Format != ManifestFormat || m.Version != 1 {
		return nil, fmt.Errorf("want format %q version 1", ManifestFormat)
	}
	m.byID = make(map[string]string, len(m.Operations))
	for _, op := range m.Operations {
		if Hash(op.Body) != strings.ToLower(op.ID) {
			return nil, fmt.Errorf("operation %q: id is not the sha256 of its body", op.Name)
		}
		m.byID[strings.ToLower(op.ID)] = op.Body
	}
	return &m, nil
}

// Lookup returns the body of the document with this id.
func (m *Manifest) Lookup(id string) (string, bool) {
	if m == nil {
		return "", false
	}
	b, ok := m.byID[id]
	return b, ok
}

// Len is the number of trusted documents.
func (m *Manifest) Len() int {
	if m == nil {
		return 0
	}
	return len(m.byID)
}

// BuildManifest makes a manifest from GraphQL documents (the contents of
// .graphql files): one entry per named operation, its body the operation
// and the fragments it uses, printed canonically. Operation names must be
// unique across the documents.
func BuildManifest(sources map[string]string) (*Manifest, error) {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	frags := map[string]*ast.FragmentDefinition{}
	var ops []*ast.OperationDefinition
	for _, n := range names {
		doc, err := parser.ParseQuery(&ast.Source{Name: n, Input: sources[n]})
		if err != nil {
			return nil, fmt.Errorf("persisted: %s: %w", n, err)
		}
		for _, f := range doc.Fragments {
			if _, dup := frags[f.Name]; dup {
				return nil, fmt.Errorf("persisted: %s: fragment %s defined twice", n, f.Name)
			}
			frags[f.Name] = f
		}
		for _, op := range doc.Operations {
			if op.Name == "" {
				return nil, fmt.Errorf("persisted: %s: every operation needs a name", n)
			}
			ops = append(ops, op)
		}
	}
	m := &Manifest{Format: ManifestFormat, Version: 1, Operations: []Operation{}, byID: map[string]string{}}
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return nil, fmt.Errorf("persisted: operation %s defined twice", op.Name)
		}
		seen[op.Name] = true
		doc := &ast.QueryDocument{Operations: ast.OperationList{op}}
		used := map[string]bool{}
		if err := collectFragments(op.SelectionSet, frags, used); err != nil {
			return nil, fmt.Errorf("persisted: operation %s: %w", op.Name, err)
		}
		fnames := make([]string, 0, len(used))
		for f := range used {
			fnames = append(fnames, f)
		}
		sort.Strings(fnames)
		for _, f := range fnames {
			doc.Fragments = append(doc.Fragments, frags[f])
		}
		var buf bytes.Buffer
		formatter.NewFormatter(&buf).FormatQueryDocument(doc)
		body := strings.TrimSpace(buf.String())
		id := Hash(body)
		m.Operations = append(m.Operations, Operation{ID: id, Name: op.Name, Type: string(op.Operation), Body: body})
		m.byID[id] = body
	}
	return m, nil
}

func collectFragments(sel ast.SelectionSet, frags map[string]*ast.FragmentDefinition, used map[string]bool) error {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if err := collectFragments(s.SelectionSet, frags, used); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := collectFragments(s.SelectionSet, frags, used); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if used[s.Name] {
				continue
			}
			f, ok := frags[s.Name]
			if !ok {
				return fmt.Errorf("unknown fragment %s", s.Name)
			}
			used[s.Name] = true
			if err := collectFragments(f.SelectionSet, frags, used); err != nil {
				return err
			}
		}
	}
	return nil
}
