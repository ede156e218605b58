package server

import (
	"messenger/persisted/memcache"

	"github.com/vektah/gqlparser/v2/ast"
)

// nodeBytes is roughly what one node of a parsed document takes in memory
// (the node, its position, its slices and its strings' headers).
const nodeBytes = 160

// newQueryCache is gqlgen's cache of parsed and validated documents, keyed
// by their text. It is bounded in bytes, not in documents: a thousand
// valid documents of 1 MiB each (a long string argument) must not hold a
// gigabyte. A document weighs its text twice (the key and the strings the
// parsed tree keeps) plus nodeBytes for every node of the tree.
func newQueryCache(maxBytes int64) *memcache.Cache[*ast.QueryDocument] {
	return memcache.New(memcache.Config[*ast.QueryDocument]{
		MaxBytes: maxBytes,
		Cost: func(query string, doc *ast.QueryDocument) int64 {
			return 2*int64(len(query)) + nodeBytes*int64(docNodes(doc))
		},
	})
}

// docNodes counts the nodes of a parsed document: definitions,
// selections, arguments, values and directives. A fragment is counted once
// however often it is spread.
func docNodes(doc *ast.QueryDocument) int {
	if doc == nil {
		return 0
	}
	n := 0
	for _, op := range doc.Operations {
		n += 1 + selectionNodes(op.SelectionSet) + directiveNodes(op.Directives)
		for _, v := range op.VariableDefinitions {
			n += 1 + valueNodes(v.DefaultValue) + directiveNodes(v.Directives)
		}
	}
	for _, f := range doc.Fragments {
		n += 1 + selectionNodes(f.SelectionSet) + directiveNodes(f.Directives)
	}
	return n
}

func selectionNodes(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		n++
		switch sel := sel.(type) {
		case *ast.Field:
			n += selectionNodes(sel.SelectionSet) + directiveNodes(sel.Directives)
			for _, a := range sel.Arguments {
				n += 1 + valueNodes(a.Value)
			}
		case *ast.InlineFragment:
			n += selectionNodes(sel.SelectionSet) + directiveNodes(sel.Directives)
		case *ast.FragmentSpread:
			n += directiveNodes(sel.Directives)
		}
	}
	return n
}

func directiveNodes(ds ast.DirectiveList) int {
	n := 0
	for _, d := range ds {
		n++
		for _, a := range d.Arguments {
			n += 1 + valueNodes(a.Value)
		}
	}
	return n
}

func valueNodes(v *ast.Value) int {
	if v == nil {
		return 0
	}
	n := 1
	for _, c := range v.Children {
		n += valueNodes(c.Value)
	}
	return n
}
