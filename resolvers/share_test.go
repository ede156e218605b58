package resolvers

import (
	"reflect"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// eventsSelection parses a subscription against the schema and returns the
// selection of its events field.
func eventsSelection(t *testing.T, q string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema(), q, nil) // nil: the default rules
	if errs != nil {
		t.Fatalf("%s: %v", q, errs)
	}
	return doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
}

func TestOnlySelectionsThatReadTheEventAloneAreShared(t *testing.T) {
	for _, tc := range []struct {
		query  string
		shared bool
	}{
		{`subscription { events { __typename cursor ... on MessageAdded { message { id seq body } } } }`, true},
		{`subscription($a: String) { events(after: $a) { cursor ephemeral ... on MessageAdded { message { id sentAt sender { id username displayName } conversation { id } } } } }`, true},
		{`subscription { events { ...E } } fragment E on Event { cursor ... on MessageAdded { message { ...M } } } fragment M on Message { id body }`, true},
		// Fragments on other event types do not matter for MessageAdded.
		{`subscription { events { cursor ... on ReactionUpdated { message { reactions { reactedByMe } } } ... on MessageAdded { message { id } } } }`, true},
		// Fields that depend on who is watching, on time or on arguments.
		{`subscription { events { ... on MessageAdded { message { reactions { emoji reactedByMe } } } } }`, false},
		{`subscription { events { ... on MessageAdded { threadRootId message { id threadRootId mentionAll mentions { id } } } } }`, true},
		{`subscription { events { ... on MessageAdded { mentionsMe message { id } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { thread { replyCount } } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { conversation { title } } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { sender { presence { online } } } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { readCount } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { receipt(userId: "x") { readAt } } } } }`, false},
		{`subscription($b: Boolean!) { events { ... on MessageAdded { message { id body @include(if: $b) } } } }`, false},
		{`subscription($b: Boolean!) { events { ... on MessageAdded @skip(if: $b) { message { id } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { attachments { url } } } } }`, false},
		{`subscription { events { ... on MessageAdded { message { id linkPreview { url title description siteName image { url width height } } } } } }`, true},
	} {
		got := sharedEventTypes(eventsSelection(t, tc.query))["MessageAdded"]
		if got != tc.shared {
			t.Errorf("%s: shared = %v, want %v", tc.query, got, tc.shared)
		}
	}
}

func TestSharedEventTypesAreOneMapPerAnswer(t *testing.T) {
	q := `subscription { events { __typename cursor ... on MessageAdded { message { id seq body } } } }`
	a, b := sharedEventTypes(eventsSelection(t, q)), sharedEventTypes(eventsSelection(t, q))
	if !a["MessageAdded"] || reflect.ValueOf(a).UnsafePointer() != reflect.ValueOf(b).UnsafePointer() {
		t.Fatalf("two subscriptions with one selection got %v and %v, want one shared map with MessageAdded", a, b)
	}
	other := sharedEventTypes(eventsSelection(t, `subscription { events { ... on MessageAdded { mentionsMe message { id } } } }`))
	if other["MessageAdded"] || !a["MessageAdded"] {
		t.Fatalf("a different answer must not change the first: %v, %v", other, a)
	}
}
