package server

import (
	"math"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// shape is what measure finds in an operation.
type shape struct {
	depth, cost, aliases int
	introspection        bool // selects __schema or __type
	// rated counts the rate-limited fields among the operation's root
	// fields (fragments expanded), by bucket.
	rated [numBuckets]int
}

// measure walks an operation with its fragments expanded, inline or named,
// at any nesting: every limit sees the fields that will run. Fragment
// results are memoised by name, so nested spreads cannot make it
// exponential. Fields are counted whether or not @skip or @include drop
// them, and a fragment spread twice counts twice: the count is never below
// what the executor runs.
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
		s.aliases = satAdd(s.aliases, c.aliases)
		s.introspection = s.introspection || c.introspection
		for b, n := range c.rated {
			s.rated[b] = satAdd(s.rated[b], n)
		}
	}
	return s
}

// field measures one field. Its rated count is itself alone: the fields
// below it are not root fields.
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
		s.aliases = satAdd(s.aliases, 1)
	}
	if b, ok := ratedFields[f.Name]; ok {
		s.rated[b] = w.sends(f)
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
		return int(min(max(v, math.MinInt32), math.MaxInt32)), true
	case float64:
		return int(min(max(v, math.MinInt32), math.MaxInt32)), true
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return int(min(max(n, math.MinInt32), math.MaxInt32)), err == nil
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
