package server

import "github.com/vektah/gqlparser/v2/ast"

// sends is how many tokens a rated root field takes: one, except
// forwardMessage, which sends one copy per target conversation and so
// takes one send token per entry of toConversationIds (at least one).
func (w *walker) sends(f *ast.Field) int {
	if f.Name != "forwardMessage" || f.Definition == nil {
		return 1
	}
	if targets, ok := f.ArgumentMap(w.vars)["toConversationIds"].([]any); ok && len(targets) > 1 {
		return len(targets)
	}
	return 1
}
