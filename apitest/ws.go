package apitest

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func rnd() int { return rand.IntN(1_000_000) }

// Message is one graphql-transport-ws message.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Socket is a graphql-transport-ws connection.
type Socket struct {
	conn *websocket.Conn
	in   chan Message
	// Closed receives the close status once the server closes the socket.
	Closed chan websocket.StatusCode
}

// Dial opens a websocket to the API and sends connection_init with the token
// (skipped when init is false). It does not wait for the ack.
func Dial(ctx context.Context, t testing.TB, baseURL, token string, init bool) *Socket {
	t.Helper()
	url := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(1 << 22)
	s := &Socket{conn: conn, in: make(chan Message, 1024), Closed: make(chan websocket.StatusCode, 1)}
	go s.read()
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	if init {
		s.Send(t, Message{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + token + `"}`)})
	}
	return s
}

func (s *Socket) read() {
	defer close(s.in)
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			s.Closed <- websocket.CloseStatus(err)
			return
		}
		var m Message
		if json.Unmarshal(b, &m) == nil {
			if m.Type == "ping" {
				_ = s.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
				continue
			}
			s.in <- m
		}
	}
}

// Send writes one message.
func (s *Socket) Send(t testing.TB, m Message) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := s.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}

// Next returns the next message, failing t after timeout.
func (s *Socket) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m, ok := <-s.in:
		if !ok {
			t.Fatalf("socket closed while waiting for a message")
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no message within %v", timeout)
	}
	return Message{}
}

// Close closes the socket from the client side.
func (s *Socket) Close() { s.conn.Close(websocket.StatusNormalClosure, "bye") }

// Subscribe opens a socket as c, waits for the ack, and subscribes to events
// after cursor ("" for live only).
func (c *Client) Subscribe(ctx context.Context, t testing.TB, after string) *Events {
	t.Helper()
	s := Dial(ctx, t, c.URL, c.Token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	vars := map[string]any{}
	if after != "" {
		vars["after"] = after
	}
	payload, _ := json.Marshal(map[string]any{"query": EventsQuery, "variables": vars})
	s.Send(t, Message{ID: "1", Type: "subscribe", Payload: payload})
	return &Events{Socket: s}
}

// EventsQuery selects every event type with the fields tests check.
const EventsQuery = `subscription($after: String) { events(after: $after) {
  __typename cursor ephemeral
  ... on MessageAdded { message { id seq body clientMessageId sender { id username } conversation { id } } }
  ... on MessageUpdated { message { id seq body editedAt } }
  ... on MessageDeleted { messageId seq forEveryone conversationId }
  ... on ConversationUpdated { conversation { id title } }
  ... on ReactionUpdated { emoji added user { id } message { id reactions { emoji count } } }
  ... on ReadCursorMoved { conversationId seq user { id } }
  ... on DeliveryCursorMoved { conversationId seq user { id } }
  ... on TypingUpdated { conversationId typing expiresAt user { id } }
  ... on PresenceUpdated { online lastSeenAt user { id } }
  ... on MemberJoined { user { id } conversation { id } by { id } }
  ... on MemberLeft { user { id } conversationId by { id } }
} }`

// Event is one received event, decoded loosely.
type Event struct {
	Typename  string `json:"__typename"`
	Cursor    string `json:"cursor"`
	Ephemeral bool   `json:"ephemeral"`
	Message   *struct {
		ID, Body, ClientMessageID string
		Seq                       int
		Sender                    struct{ ID, Username string }
	} `json:"message"`
	Seq          int
	ForEveryone  bool
	Typing       bool
	Online       bool
	Emoji        string
	Added        bool
	User         *struct{ ID string }
	Conversation *struct{ ID, Title string }
	Raw          json.RawMessage `json:"-"`
}

// Events is a subscription to the events field.
type Events struct {
	*Socket
}

// ErrorPayload is set when the subscription ended with a GraphQL error.
type ErrorPayload []Error

// Next returns the next event, or fails t. A GraphQL error message for the
// subscription fails t too; use NextOrError to inspect it.
func (e *Events) Next(t testing.TB) Event {
	t.Helper()
	ev, errs := e.NextOrError(t, 5*time.Second)
	if errs != nil {
		t.Fatalf("subscription error: %+v", errs)
	}
	return ev
}

// NextOrError returns the next event or the subscription's errors.
func (e *Events) NextOrError(t testing.TB, timeout time.Duration) (Event, []Error) {
	t.Helper()
	for {
		m := e.Socket.Next(t, timeout)
		switch m.Type {
		case "next":
			return decodeNext(t, m)
		case "error":
			var errs []Error
			_ = json.Unmarshal(m.Payload, &errs)
			return Event{}, errs
		case "complete":
			return Event{}, []Error{{Message: "complete", Extensions: map[string]any{"code": "COMPLETE"}}}
		}
	}
}

func decodeNext(t testing.TB, m Message) (Event, []Error) {
	t.Helper()
	var p struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []Error                    `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("bad next payload %s", m.Payload)
	}
	if len(p.Errors) > 0 {
		return Event{}, p.Errors
	}
	var ev Event
	_ = json.Unmarshal(p.Data["events"], &ev)
	ev.Raw = p.Data["events"]
	return ev, nil
}

// Collect returns every event that arrives within d, in order. A
// subscription error fails t.
func (e *Events) Collect(t testing.TB, d time.Duration) []Event {
	t.Helper()
	var out []Event
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-e.in:
			if !ok {
				return out
			}
			switch m.Type {
			case "next":
				ev, errs := decodeNext(t, m)
				if errs != nil {
					t.Fatalf("subscription error: %+v", errs)
				}
				out = append(out, ev)
			case "error", "complete":
				t.Fatalf("subscription ended: %s %s", m.Type, m.Payload)
			}
		case <-deadline:
			return out
		}
	}
}

// NextOfType skips events until one of typename arrives.
func (e *Events) NextOfType(t testing.TB, typename string) Event {
	t.Helper()
	for {
		if ev := e.Next(t); ev.Typename == typename {
			return ev
		}
	}
}

// ExpectNone fails t if an event of typename arrives within d.
func (e *Events) ExpectNone(t testing.TB, typename string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		select {
		case m, ok := <-e.in:
			if !ok {
				return
			}
			if m.Type == "next" && strings.Contains(string(m.Payload), `"__typename":"`+typename+`"`) {
				t.Fatalf("unexpected %s: %s", typename, m.Payload)
			}
		case <-time.After(left):
			return
		}
	}
}
