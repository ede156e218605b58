package adversary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"messenger/apitest"
)

// messagesQuery subscribes to events, reading what the checks of message
// delivery need.
const messagesQuery = `subscription($after: String) { events(after: $after) { __typename cursor
  ... on MessageAdded { message { id seq clientMessageId conversation { id } } } } }`

// attachmentsQuery also reads each message's attachments.
const attachmentsQuery = `subscription($after: String) { events(after: $after) { __typename cursor
  ... on MessageAdded { message { id seq clientMessageId conversation { id } attachments { id contentType } } } } }`

// live is one event a stream received.
type live struct {
	Typename string `json:"__typename"`
	Cursor   string `json:"cursor"`
	Message  *struct {
		ID              string `json:"id"`
		Seq             int    `json:"seq"`
		ClientMessageID string `json:"clientMessageId"`
		Conversation    struct {
			ID string `json:"id"`
		} `json:"conversation"`
		Attachments []struct {
			ID          string `json:"id"`
			ContentType string `json:"contentType"`
		} `json:"attachments"`
	} `json:"message"`
}

// stream is one graphql-transport-ws socket running one events
// subscription. It records everything it receives on its own goroutine, so
// it needs no testing.T and outlives a killed server: done closes when the
// socket ends.
type stream struct {
	conn *websocket.Conn

	mu     sync.Mutex
	events []live
	errs   []apitest.Error // the subscription's errors (an error message, or next with errors)
	status websocket.StatusCode
	more   chan struct{} // signalled (without blocking) after each record
	done   chan struct{}
}

// subscribe opens a socket to url as token, waits for connection_ack, and
// starts the subscription query with vars.
func subscribe(ctx context.Context, url, token, query string, vars map[string]any) (*stream, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dialing the websocket: %w", err)
	}
	conn.SetReadLimit(4 << 20)
	s := &stream{conn: conn, more: make(chan struct{}, 1), done: make(chan struct{})}
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	if err := conn.Write(dialCtx, websocket.MessageText, init); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("sending connection_init: %w", err)
	}
	_, ack, err := conn.Read(dialCtx)
	if err != nil || !strings.Contains(string(ack), `"connection_ack"`) {
		conn.CloseNow()
		return nil, fmt.Errorf("waiting for connection_ack: got %s, %v", ack, err)
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	if err := conn.Write(dialCtx, websocket.MessageText, sub); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	go s.read()
	return s, nil
}

func (s *stream) read() {
	defer close(s.done)
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			s.mu.Lock()
			s.status = websocket.CloseStatus(err)
			s.mu.Unlock()
			s.signal()
			return
		}
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		var p struct {
			Data   struct{ Events live } `json:"data"`
			Errors []apitest.Error       `json:"errors"`
		}
		s.mu.Lock()
		switch m.Type {
		case "ping":
			go func() { _ = s.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`)) }()
		case "next":
			if json.Unmarshal(m.Payload, &p) == nil {
				if len(p.Errors) > 0 {
					s.errs = append(s.errs, p.Errors...)
				} else {
					s.events = append(s.events, p.Data.Events)
				}
			}
		case "error":
			var errs []apitest.Error
			_ = json.Unmarshal(m.Payload, &errs)
			s.errs = append(s.errs, errs...)
		case "complete":
			s.errs = append(s.errs, apitest.Error{Message: "the server completed the subscription", Extensions: map[string]any{"code": "COMPLETE"}})
		}
		s.mu.Unlock()
		s.signal()
	}
}

func (s *stream) signal() {
	select {
	case s.more <- struct{}{}:
	default:
	}
}

// close ends the socket from the client side.
func (s *stream) close() { _ = s.conn.Close(websocket.StatusNormalClosure, "") }

// snapshot returns copies of what the stream received so far.
func (s *stream) snapshot() ([]live, []apitest.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]live(nil), s.events...), append([]apitest.Error(nil), s.errs...)
}

// messages returns the MessageAdded events of conversation conv, in the
// order they arrived.
func (s *stream) messages(conv string) []live {
	evs, _ := s.snapshot()
	var out []live
	for _, e := range evs {
		if e.Typename == "MessageAdded" && e.Message != nil && e.Message.Conversation.ID == conv {
			out = append(out, e)
		}
	}
	return out
}

// lastCursor is the cursor of the last stored event received.
func (s *stream) lastCursor() string {
	evs, _ := s.snapshot()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Cursor != "" {
			return evs[i].Cursor
		}
	}
	return ""
}

// errStreamEnded: the socket ended, or the subscription failed, before the
// awaited events came.
var errStreamEnded = errors.New("the stream ended")

// await waits until ok holds for what the stream received, the
// subscription fails or its socket ends, or d passes.
func (s *stream) await(d time.Duration, ok func(evs []live) bool) error {
	deadline := time.After(d)
	for {
		evs, errs := s.snapshot()
		if ok(evs) {
			return nil
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: subscription error %+v", errStreamEnded, errs)
		}
		select {
		case <-s.more:
		case <-s.done:
			if evs, _ := s.snapshot(); ok(evs) {
				return nil
			}
			s.mu.Lock()
			st := s.status
			s.mu.Unlock()
			return fmt.Errorf("%w: socket closed (%v)", errStreamEnded, st)
		case <-deadline:
			return fmt.Errorf("not within %v: %d events so far", d, len(evs))
		}
	}
}

// hasMessages reports whether evs hold a MessageAdded of conv for every one
// of clientIDs.
func hasMessages(conv string, clientIDs map[string]bool) func([]live) bool {
	return func(evs []live) bool {
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Typename == "MessageAdded" && e.Message != nil && e.Message.Conversation.ID == conv {
				seen[e.Message.ClientMessageID] = true
			}
		}
		for id := range clientIDs {
			if !seen[id] {
				return false
			}
		}
		return true
	}
}

// awaitLive sends probe messages from sender into conv until every stream
// has received one, and returns the seq of each probe sent, by client id. A
// subscription is live only a moment after its subscribe message goes
// out, and a message sent before that is not its to receive: a single
// warm-up message would race the registration.
func awaitLive(t *testing.T, sender *apitest.Client, conv string, streams []*stream) map[string]int {
	t.Helper()
	gotProbe := func(s *stream) bool {
		for _, e := range s.messages(conv) {
			if strings.HasPrefix(e.Message.ClientMessageID, "probe-") {
				return true
			}
		}
		return false
	}
	sent := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for probe := 0; ; probe++ {
		id := fmt.Sprintf("probe-%d", probe)
		var out struct{ SendMessage struct{ Seq int } }
		sender.Must(t, sendMutation, sendInput(conv, id, "probe"), &out)
		sent[id] = out.SendMessage.Seq
		all := true
		for _, s := range streams {
			if s.await(time.Second, func([]live) bool { return gotProbe(s) }) != nil {
				all = false
			}
		}
		if all {
			return sent
		}
		if time.Now().After(deadline) {
			t.Fatal("the subscriptions did not all receive a probe within 30 s")
		}
	}
}
