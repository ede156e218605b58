package resolvers

import (
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"

	"messenger/graph"
)

// sharedFields are the fields whose value depends on the event alone: not
// on who is watching, on arguments, or on the time. A subscription whose
// selection for an event type reads only these (and the cursor, which the
// transport patches per subscriber) renders the same for every recipient.
// Only MessageAdded is listed: it is the event a large group multiplies.
var sharedFields = map[string]map[string]string{
	// field -> the type of its selection ("" for a leaf)
	"MessageAdded": {"__typename": "", "cursor": "", "ephemeral": "", "message": "Message", "threadRootId": ""},
	"Message": {"__typename": "", "id": "", "seq": "", "body": "", "clientMessageId": "",
		"sentAt": "", "editedAt": "", "deletedAt": "", "sender": "User", "conversation": "Conversation",
		"threadRootId": "", "mentionAll": "", "mentions": "User", "linkPreview": "LinkPreview"}, // not mentionsMe, replyTo, thread: per viewer
	"LinkPreview":      {"__typename": "", "url": "", "title": "", "description": "", "siteName": "", "image": "LinkPreviewImage"},
	"LinkPreviewImage": {"__typename": "", "url": "", "width": "", "height": ""}, // one signed URL for all: same object, same TTL
	"Conversation":     {"__typename": "", "id": ""},                             // not title: a direct conversation's is the other member's name
	"User":             {"__typename": "", "id": "", "username": "", "displayName": "", "createdAt": ""},
}

var schema = sync.OnceValue(func() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() })

// sharedEventTypes returns the event types for which the events field's
// selection renders the same for every recipient (but for the cursor).
// The result is read-only and interned: every subscription with the same
// answer shares one map (15,000 sockets held 15,000 copies, ≈ 280 B each;
// issue #24).
func sharedEventTypes(sel ast.SelectionSet) map[string]bool {
	var types []string
	for typ := range sharedFields {
		if isEvent(typ) && sharedSelection(sel, typ) {
			types = append(types, typ)
		}
	}
	slices.Sort(types)
	key := strings.Join(types, ",")
	if m, ok := sharedTypeSets.Load(key); ok {
		return m.(map[string]bool)
	}
	out := make(map[string]bool, len(types))
	for _, typ := range types {
		out[typ] = true
	}
	m, _ := sharedTypeSets.LoadOrStore(key, out)
	return m.(map[string]bool)
}

// sharedTypeSets interns sharedEventTypes' answers by their sorted types
// (a handful at most: subsets of the event types).
var sharedTypeSets sync.Map

func isEvent(typ string) bool {
	return applies("Event", typ)
}

// sharedSelection reports whether sel, applied to an object of type typ,
// selects only shared fields, without directives or arguments.
func sharedSelection(sel ast.SelectionSet, typ string) bool {
	fields := sharedFields[typ]
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			child, ok := fields[s.Name]
			if !ok || len(s.Arguments) > 0 || len(s.Directives) > 0 {
				return false
			}
			if child != "" && !sharedSelection(s.SelectionSet, child) {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 {
				return false
			}
			if (s.TypeCondition == "" || applies(s.TypeCondition, typ)) && !sharedSelection(s.SelectionSet, typ) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil {
				return false
			}
			if applies(s.Definition.TypeCondition, typ) && !sharedSelection(s.Definition.SelectionSet, typ) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// applies reports whether a fragment on cond applies to an object of type
// typ.
func applies(cond, typ string) bool {
	if cond == typ {
		return true
	}
	s := schema()
	def := s.Types[cond]
	if def == nil {
		return false
	}
	for _, p := range s.GetPossibleTypes(def) {
		if p.Name == typ {
			return true
		}
	}
	return false
}
