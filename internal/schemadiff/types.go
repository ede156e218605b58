package schemadiff

import "github.com/vektah/gqlparser/v2/ast"

// outputCompatible reports whether a field whose type changed from old to
// new still gives every client a value it can read: the same named type
// in the same list shape, where a nullable position may become non-null
// (the client already handled a value there) but not the reverse (a null
// would reach code that never expected one).
func outputCompatible(old, new *ast.Type) bool {
	if old.NonNull && !new.NonNull {
		return false
	}
	if (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return outputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}

// inputCompatible reports whether every value a client sent for an
// argument or input field of type old is still accepted for type new: the
// same named type in the same list shape, where a non-null position may
// become nullable but not the reverse (clients that send null, or omit an
// optional value, would be refused).
func inputCompatible(old, new *ast.Type) bool {
	if new.NonNull && !old.NonNull {
		return false
	}
	if (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return inputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}
