package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"messenger/apitest"
	"messenger/gqlws"
	"messenger/server"
)

func sendOp(id, conv, key string) string {
	p, _ := json.Marshal(map[string]any{"query": send, "variables": map[string]any{"c": conv, "k": key, "b": "hi"}})
	return `{"id":"` + id + `","type":"subscribe","payload":` + string(p) + `}`
}

func subscribeOp(id string) string {
	p, _ := json.Marshal(map[string]any{"query": apitest.EventsQuery})
	return `{"id":"` + id + `","type":"subscribe","payload":` + string(p) + `}`
}

func expectClose(t *testing.T, s *rawSocket, code websocket.StatusCode, reason string) {
	t.Helper()
	got, why := s.closed(5 * time.Second)
	if got != code || (reason != "" && !strings.Contains(why, reason)) {
		t.Fatalf("closed with %d %q, want %d %q", got, why, code, reason)
	}
}

func TestWebsocketWithoutInitIsClosedWith4408(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.WebSocket.InitTimeout = 200 * time.Millisecond }})
	s := dialRaw(t, api.URL, nil)
	expectClose(t, s, 4408, "Connection initialisation timeout")
}

func TestWebsocketSecondInitIsClosedWith4429(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	s.send(`{"type":"connection_init","payload":{"Authorization":"` + bob.Token + `"}}`)
	expectClose(t, s, 4429, "Too many initialisation requests")
}

func TestWebsocketSubscribeBeforeAckIsClosedWith4401AndRunsNothing(t *testing.T) {
	api := startProd(t, prodOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	s := dialRaw(t, api.URL, nil)
	s.send(sendOp("1", conv, "early"))
	expectClose(t, s, 4401, "Unauthorized")
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("a send before the ack was executed: lastSeq = %d", n)
	}
}

func TestWebsocketInvalidMessagesAreClosedWith4400(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	for _, msg := range []string{
		`not json`,
		`{"type":"no_such_type"}`,
		`{"id":"1","type":"subscribe"}`,
		`{"type":"subscribe","payload":{"query":"{ me { id } }"}}`,
		`{"id":7,"type":"subscribe","payload":{"query":"{ me { id } }"}}`,
		`{"id":"1","type":"next","payload":{}}`,
		`{"type":"complete"}`,
	} {
		s := acked(t, api.URL, bob.Token)
		s.send(msg)
		expectClose(t, s, 4400, "")
	}
}

func TestWebsocketDuplicateSubscriptionIDIsClosedWith4409(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	s.send(subscribeOp("dup"))
	time.Sleep(50 * time.Millisecond)
	s.send(subscribeOp("dup"))
	expectClose(t, s, 4409, "Subscriber for dup already exists")
}

func TestWebsocketRefusedTokensAreClosedWith4403(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	for _, payload := range []string{`{"Authorization":"Bearer nope"}`, `{}`, `null`, `{"authorization":"` + bob.Token + `x"}`} {
		s := dialRaw(t, api.URL, nil)
		s.send(`{"type":"connection_init","payload":` + payload + `}`)
		expectClose(t, s, 4403, "Forbidden")
	}
	// Every accepted spelling: either key, with or without "Bearer ".
	for _, payload := range []string{`{"Authorization":"Bearer ` + bob.Token + `"}`, `{"authorization":"` + bob.Token + `"}`, `{"authorization":"bearer ` + bob.Token + `"}`} {
		s := dialRaw(t, api.URL, nil)
		s.send(`{"type":"connection_init","payload":` + payload + `}`)
		if m := s.next(); m.Type != "connection_ack" {
			t.Fatalf("payload %s: got %+v", payload, m)
		}
	}
}

func TestWebsocketAnswersPingWithPong(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	s.send(`{"type":"ping","payload":{"n":1}}`)
	m := s.next()
	if m.Type != "pong" || string(m.Payload) != `{"n":1}` {
		t.Fatalf("want pong echoing the payload, got %+v", m)
	}
	s.send(`{"type":"pong"}`) // unsolicited pongs are allowed
	s.send(`{"type":"ping"}`)
	if m := s.next(); m.Type != "pong" {
		t.Fatalf("want pong, got %+v", m)
	}
}

func TestWebsocketPeerThatStopsAnsweringPingsIsDropped(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.WebSocket.PingInterval = 100 * time.Millisecond }})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	if m := s.next(); m.Type != "ping" {
		t.Fatalf("want a server ping, got %+v", m)
	}
	// A client that answers stays.
	s.send(`{"type":"pong"}`)
	if m := s.next(); m.Type != "ping" {
		t.Fatalf("want a second ping, got %+v", m)
	}
	// One that stops answering is dropped at the next round.
	expectClose(t, s, 1001, "no pong")
}

func TestWebsocketQueryGetsNextThenCompleteAndErrorsGetAnErrorMessage(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	s.send(`{"id":"q","type":"subscribe","payload":{"query":"{ me { username } }"}}`)
	if m := s.next(); m.Type != "next" || m.ID != "q" || !strings.Contains(string(m.Payload), bob.Username) {
		t.Fatalf("want next with my name, got %+v", m)
	}
	if m := s.next(); m.Type != "complete" || m.ID != "q" {
		t.Fatalf("want complete, got %+v", m)
	}
	s.send(`{"id":"bad","type":"subscribe","payload":{"query":"{ me { nope } }"}}`)
	m := s.next()
	var errs []apitest.Error
	_ = json.Unmarshal(m.Payload, &errs)
	if m.Type != "error" || m.ID != "bad" || len(errs) == 0 || errs[0].Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("want an error message with a code, got %+v", m)
	}
	// The socket stays usable, and the id may be reused once finished.
	s.send(`{"id":"q","type":"subscribe","payload":{"query":"{ me { id } }"}}`)
	if m := s.next(); m.Type != "next" || m.ID != "q" {
		t.Fatalf("reusing a finished id: got %+v", m)
	}
}

func TestWebsocketClientCompleteStopsTheSubscription(t *testing.T) {
	api := startProd(t, prodOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	s := acked(t, api.URL, bob.Token)
	s.send(subscribeOp("live"))
	time.Sleep(100 * time.Millisecond)
	sendMsg(t, alice, conv, "k1", "one")
	if m := s.next(); m.Type != "next" || m.ID != "live" {
		t.Fatalf("want the event, got %+v", m)
	}
	s.send(`{"id":"live","type":"complete"}`)
	time.Sleep(100 * time.Millisecond)
	sendMsg(t, alice, conv, "k2", "two")
	s.send(`{"type":"ping"}`)
	if m := s.next(); m.Type != "pong" {
		t.Fatalf("after complete the server sent %+v", m)
	}
}

func TestWebsocketClosesWith4403WhenTheTokenExpires(t *testing.T) {
	api := startProd(t, prodOptions{tokenTTL: 2 * time.Second})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	s.send(subscribeOp("1"))
	expectClose(t, s, 4403, "expired")
}

func TestWebsocketPerConnectionLimitsCloseWith4429(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.WebSocket.MaxOperations = 2
		c.WebSocket.MessageRate, c.WebSocket.MessageBurst = 1, 5
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)

	s := acked(t, api.URL, bob.Token)
	s.send(subscribeOp("1"))
	s.send(subscribeOp("2"))
	s.send(sendOp("3", conv, "over-the-limit"))
	expectClose(t, s, 4429, "Too many operations")

	flood := acked(t, api.URL, bob.Token) // the init took one token of five
	for i := 0; i < 4; i++ {
		flood.send(`{"type":"ping"}`)
	}
	flood.send(sendOp("x", conv, "flood"))
	expectClose(t, flood, 4429, "Too many messages")
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("a refused operation was executed: lastSeq = %d", n)
	}
}

func TestWebsocketNeedsTheSubprotocol(t *testing.T) {
	api := startProd(t, prodOptions{})
	s := dialRaw(t, api.URL, &websocket.DialOptions{})
	expectClose(t, s, 4406, "Subprotocol not acceptable")
}

func TestWebsocketUpgradeChecksOrigin(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.AllowedOrigins = []string{"https://app.example.com"} }})
	dial := func(origin string) (int, error) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(api.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{gqlws.Subprotocol}, HTTPHeader: h})
		if c != nil {
			c.CloseNow()
		}
		if resp == nil {
			return 0, err
		}
		return resp.StatusCode, err
	}
	for origin, want := range map[string]int{
		"":                        http.StatusSwitchingProtocols, // not a browser
		"https://app.example.com": http.StatusSwitchingProtocols,
		api.URL:                   http.StatusSwitchingProtocols, // same host
		"https://evil.example":    http.StatusForbidden,
	} {
		if got, _ := dial(origin); got != want {
			t.Errorf("origin %q: status %d, want %d", origin, got, want)
		}
	}
}

func TestWebsocketShutdownClosesWith1001(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	s := acked(t, api.URL, bob.Token)
	api.H.Shutdown()
	expectClose(t, s, 1001, "shutting down")
}
