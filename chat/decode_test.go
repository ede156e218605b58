package chat

import (
	"sync"
	"testing"

	"messenger/realtime"
	"messenger/storage"
)

// Every recipient's copy of one event (same id) decodes to one shared
// value; another event, or one without an id, is decoded on its own.
func TestRecipientsOfOneEventShareOneDecodedValue(t *testing.T) {
	var c decodeCache
	ev, err := encode(&MessageAdded{Message: &storage.Message{ID: "c.1", Body: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	wire := realtime.Event{ID: "ev-1", Type: ev.Type, Data: ev.Data} // as read from Redis: no Value
	var wg sync.WaitGroup
	for range 50 { // recipients on this instance, at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e, ok := c.decode(wire).(*MessageAdded); !ok || e.Message.Body != "hello" {
				t.Errorf("decoded %#v", e)
			}
		}()
	}
	wg.Wait()
	shared := c.decode(wire)
	if c.decode(wire) != shared {
		t.Fatal("two copies of one event were decoded separately")
	}
	other := wire
	other.ID = "ev-2"
	if c.decode(other) == shared {
		t.Fatal("a different event id shared the first event's value")
	}
	noID := wire
	noID.ID = ""
	if c.decode(noID) == shared {
		t.Fatal("an event without id was served from the cache")
	}
	if e := c.decode(realtime.Event{ID: "ev-1", Type: "MessageUpdated", Data: []byte(`{}`)}); e == shared {
		t.Fatal("an id seen with another type got the first type's value")
	}
}
