package chat

import (
	"slices"
	"testing"

	"messenger/realtime"
	"messenger/storage"
)

// A thread's events and a message's refs survive the trip through a log
// that keeps bytes (Redis): subscribers on another instance decode them.
func TestThreadEventsAndRefsDecodeFromTheWire(t *testing.T) {
	var c decodeCache
	for _, e := range []Event{
		&ThreadUpdated{ConversationID: "c", RootSeq: 3, ReplySeq: 9},
		&MessageAdded{Message: &storage.Message{ID: "c.9", MessageRefs: storage.MessageRefs{ThreadRootSeq: 3, ReplyToSeq: 2, Mentions: []string{"u"}, MentionAll: true}}},
	} {
		ev, err := encode(e)
		if err != nil {
			t.Fatal(err)
		}
		got := c.decode(realtime.Event{Type: ev.Type, Data: ev.Data})
		switch want := e.(type) {
		case *ThreadUpdated:
			if g, ok := got.(*ThreadUpdated); !ok || *g != *want {
				t.Fatalf("ThreadUpdated decoded as %#v", got)
			}
		case *MessageAdded:
			g, ok := got.(*MessageAdded)
			if !ok || g.Message.ThreadRootSeq != 3 || g.Message.ReplyToSeq != 2 || !g.Message.MentionAll || !slices.Equal(g.Message.Mentions, []string{"u"}) {
				t.Fatalf("MessageAdded decoded as %#v", got)
			}
		}
	}
}
