package schemadiff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Class says whether a change can break a client written against the old
// schema.
type Class int

const (
	// Safe changes leave every valid operation valid with results the
	// client can read: additions, optional arguments, stricter output
	// types, looser input types, descriptions and deprecations. New enum
	// values and union members are safe too, provided clients treat
	// unknown ones as the README's deprecation policy asks.
	Safe Class = iota
	// Breaking changes can make an existing operation fail validation or
	// return what its client cannot read: removals, incompatible type
	// changes, new required arguments or input fields.
	Breaking
)

func (c Class) String() string {
	if c == Breaking {
		return "BREAKING"
	}
	return "safe"
}

// Change is one difference between two schemas.
type Change struct {
	Class Class
	// Coordinate names what changed, as a GraphQL schema coordinate:
	// Type, Type.field, Type.field(arg:), Enum.VALUE, @directive or
	// @directive(arg:). A breaking change is named in CHANGELOG.md by it.
	Coordinate string
	// Message says what changed, in one sentence.
	Message string
}

func (c Change) String() string { return fmt.Sprintf("%-8s %s", c.Class, c.Message) }

// Diff lists the changes from old to new, ordered by coordinate.
func Diff(old, new *ast.Schema) []Change {
	d := &differ{}
	d.roots(old, new)
	for _, name := range names(old.Types) {
		o := old.Types[name]
		if o.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		n, ok := new.Types[name]
		switch {
		case !ok:
			d.add(Breaking, name, "type %s was removed", name)
		case n.Kind != o.Kind:
			d.add(Breaking, name, "type %s changed from %s to %s", name, kind(o), kind(n))
		default:
			d.definition(o, n)
		}
	}
	for _, name := range names(new.Types) {
		n := new.Types[name]
		if _, ok := old.Types[name]; !ok && !n.BuiltIn && !strings.HasPrefix(name, "__") {
			d.add(Safe, name, "%s %s was added", kind(n), name)
		}
	}
	d.directives(old, new)
	slices.SortStableFunc(d.out, func(a, b Change) int {
		return cmp.Or(strings.Compare(a.Coordinate, b.Coordinate), strings.Compare(a.Message, b.Message))
	})
	return d.out
}

// HasBreaking reports whether any change is breaking.
func HasBreaking(changes []Change) bool {
	return slices.ContainsFunc(changes, func(c Change) bool { return c.Class == Breaking })
}

type differ struct{ out []Change }

func (d *differ) add(c Class, coord, format string, args ...any) {
	d.out = append(d.out, Change{Class: c, Coordinate: coord, Message: fmt.Sprintf(format, args...)})
}

func (d *differ) roots(old, new *ast.Schema) {
	for _, r := range []struct {
		op       string
		old, new *ast.Definition
	}{{"query", old.Query, new.Query}, {"mutation", old.Mutation, new.Mutation}, {"subscription", old.Subscription, new.Subscription}} {
		switch {
		case r.old == nil && r.new != nil:
			d.add(Safe, "schema", "the %s root type %s was added", r.op, r.new.Name)
		case r.old != nil && r.new == nil:
			d.add(Breaking, "schema", "the %s root type %s was removed", r.op, r.old.Name)
		case r.old != nil && r.old.Name != r.new.Name:
			d.add(Breaking, "schema", "the %s root type changed from %s to %s", r.op, r.old.Name, r.new.Name)
		}
	}
}

func (d *differ) definition(o, n *ast.Definition) {
	if o.Description != n.Description {
		d.add(Safe, o.Name, "the description of %s changed", o.Name)
	}
	switch o.Kind {
	case ast.Object, ast.Interface:
		d.members(o.Name, "interface", o.Interfaces, n.Interfaces)
		d.outputFields(o, n)
	case ast.Union:
		d.members(o.Name, "member", o.Types, n.Types)
	case ast.Enum:
		d.enumValues(o, n)
	case ast.InputObject:
		d.inputFields(o, n)
	}
}

// members compares a union's members or a type's interfaces: removing one
// breaks fragments on it (and, for an interface, fields selected through
// it); adding one is safe.
func (d *differ) members(typ, what string, old, new []string) {
	for _, m := range old {
		if !slices.Contains(new, m) {
			d.add(Breaking, typ, "%s %s was removed from %s", what, m, typ)
		}
	}
	for _, m := range new {
		if !slices.Contains(old, m) {
			d.add(Safe, typ, "%s %s was added to %s", what, m, typ)
		}
	}
}

func (d *differ) outputFields(o, n *ast.Definition) {
	for _, of := range o.Fields {
		coord := o.Name + "." + of.Name
		nf := n.Fields.ForName(of.Name)
		if nf == nil {
			d.add(Breaking, coord, "field %s was removed", coord)
			continue
		}
		if t0, t1 := of.Type.String(), nf.Type.String(); t0 != t1 {
			if outputCompatible(of.Type, nf.Type) {
				d.add(Safe, coord, "field %s changed type from %s to %s", coord, t0, t1)
			} else {
				d.add(Breaking, coord, "field %s changed type from %s to %s", coord, t0, t1)
			}
		}
		d.described(coord, "field", of.Description, nf.Description, of.Directives, nf.Directives)
		d.arguments(coord, of.Arguments, nf.Arguments)
	}
	for _, nf := range n.Fields {
		if o.Fields.ForName(nf.Name) == nil {
			d.add(Safe, o.Name+"."+nf.Name, "field %s.%s was added", o.Name, nf.Name)
		}
	}
}

// arguments compares the arguments of a field or a directive (owner is its
// coordinate).
func (d *differ) arguments(owner string, old, new ast.ArgumentDefinitionList) {
	for _, oa := range old {
		coord := owner + "(" + oa.Name + ":)"
		na := new.ForName(oa.Name)
		if na == nil {
			d.add(Breaking, coord, "argument %s was removed", coord)
			continue
		}
		d.inputValue(coord, "argument", oa.Type, na.Type, oa.DefaultValue, na.DefaultValue)
		d.described(coord, "argument", oa.Description, na.Description, oa.Directives, na.Directives)
	}
	for _, na := range new {
		if old.ForName(na.Name) != nil {
			continue
		}
		coord := owner + "(" + na.Name + ":)"
		if required(na.Type, na.DefaultValue) {
			d.add(Breaking, coord, "required argument %s was added", coord)
		} else {
			d.add(Safe, coord, "optional argument %s was added", coord)
		}
	}
}

func (d *differ) inputFields(o, n *ast.Definition) {
	for _, of := range o.Fields {
		coord := o.Name + "." + of.Name
		nf := n.Fields.ForName(of.Name)
		if nf == nil {
			d.add(Breaking, coord, "input field %s was removed", coord)
			continue
		}
		d.inputValue(coord, "input field", of.Type, nf.Type, of.DefaultValue, nf.DefaultValue)
		d.described(coord, "input field", of.Description, nf.Description, of.Directives, nf.Directives)
	}
	for _, nf := range n.Fields {
		if o.Fields.ForName(nf.Name) != nil {
			continue
		}
		coord := o.Name + "." + nf.Name
		if required(nf.Type, nf.DefaultValue) {
			d.add(Breaking, coord, "required input field %s was added", coord)
		} else {
			d.add(Safe, coord, "optional input field %s was added", coord)
		}
	}
}

// inputValue compares an argument's or input field's type and default.
func (d *differ) inputValue(coord, what string, ot, nt *ast.Type, od, nd *ast.Value) {
	if t0, t1 := ot.String(), nt.String(); t0 != t1 {
		if inputCompatible(ot, nt) {
			d.add(Safe, coord, "%s %s changed type from %s to %s", what, coord, t0, t1)
		} else {
			d.add(Breaking, coord, "%s %s changed type from %s to %s", what, coord, t0, t1)
		}
	}
	if v0, v1 := value(od), value(nd); v0 != v1 {
		d.add(Safe, coord, "the default of %s %s changed from %s to %s (clients that omit it get the new one)", what, coord, v0, v1)
	}
}

func (d *differ) enumValues(o, n *ast.Definition) {
	for _, ov := range o.EnumValues {
		coord := o.Name + "." + ov.Name
		nv := n.EnumValues.ForName(ov.Name)
		if nv == nil {
			d.add(Breaking, coord, "enum value %s was removed", coord)
			continue
		}
		d.described(coord, "enum value", ov.Description, nv.Description, ov.Directives, nv.Directives)
	}
	for _, nv := range n.EnumValues {
		if o.EnumValues.ForName(nv.Name) == nil {
			d.add(Safe, o.Name+"."+nv.Name, "enum value %s.%s was added", o.Name, nv.Name)
		}
	}
}

// described notes description and deprecation changes: always safe.
func (d *differ) described(coord, what, od, nd string, odirs, ndirs ast.DirectiveList) {
	if od != nd {
		d.add(Safe, coord, "the description of %s %s changed", what, coord)
	}
	o, n := deprecation(odirs), deprecation(ndirs)
	switch {
	case o == n:
	case n == "":
		d.add(Safe, coord, "%s %s is no longer deprecated", what, coord)
	case o == "":
		d.add(Safe, coord, "%s %s was deprecated: %s", what, coord, n)
	default:
		d.add(Safe, coord, "the deprecation reason of %s %s changed to: %s", what, coord, n)
	}
}

func (d *differ) directives(old, new *ast.Schema) {
	for _, name := range names(old.Directives) {
		o := old.Directives[name]
		if builtIn(o.Position) {
			continue
		}
		coord := "@" + name
		n, ok := new.Directives[name]
		if !ok {
			d.add(Breaking, coord, "directive %s was removed", coord)
			continue
		}
		for _, loc := range o.Locations {
			if !slices.Contains(n.Locations, loc) {
				d.add(Breaking, coord, "directive %s can no longer be used on %s", coord, loc)
			}
		}
		for _, loc := range n.Locations {
			if !slices.Contains(o.Locations, loc) {
				d.add(Safe, coord, "directive %s can now be used on %s", coord, loc)
			}
		}
		d.arguments(coord, o.Arguments, n.Arguments)
	}
	for _, name := range names(new.Directives) {
		if _, ok := old.Directives[name]; !ok && !builtIn(new.Directives[name].Position) {
			d.add(Safe, "@"+name, "directive @%s was added", name)
		}
	}
}

func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func kind(def *ast.Definition) string {
	switch def.Kind {
	case ast.InputObject:
		return "input"
	case ast.Object:
		return "type"
	}
	return strings.ToLower(string(def.Kind))
}

func required(t *ast.Type, def *ast.Value) bool { return t.NonNull && def == nil }

func value(v *ast.Value) string {
	if v == nil {
		return "(none)"
	}
	return v.String()
}

func deprecation(dirs ast.DirectiveList) string {
	dep := dirs.ForName("deprecated")
	if dep == nil {
		return ""
	}
	if r := dep.Arguments.ForName("reason"); r != nil && r.Value != nil {
		return r.Value.Raw
	}
	return "No longer supported"
}
