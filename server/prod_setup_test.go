package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"messenger/apitest"
	"messenger/chat"
	"messenger/server"
)

// prodAPI is the API with a configuration a test chooses: limits, partner
// keys, trusted documents, websocket timings.
type prodAPI struct {
	URL  string
	Chat *chat.Service
	H    *server.Handler
}

type prodOptions struct {
	tokenTTL time.Duration
	config   func(*server.Config)
}

func startProd(t *testing.T, o prodOptions) *prodAPI {
	t.Helper()
	e := newEmbedded(t, apiOptions{tokenTTL: o.tokenTTL})
	var cfg server.Config
	if o.config != nil {
		o.config(&cfg)
	}
	h, url := e.serve(t, cfg)
	return &prodAPI{URL: url, Chat: e.Chat, H: h}
}

// lastSeq is a conversation's last sequence number as c sees it: the
// proof that a refused send wrote nothing.
func lastSeq(t *testing.T, c *apitest.Client, conv string) int {
	t.Helper()
	var out struct{ Conversation struct{ LastSeq int } }
	c.Must(t, `query($c: ID!) { conversation(id: $c) { lastSeq } }`, map[string]any{"c": conv}, &out)
	return out.Conversation.LastSeq
}

// rawResponse is an HTTP answer, undecoded.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
	apitest.Response
}

// do sends a request to /graphql and decodes the body when it is JSON.
func do(t *testing.T, method, url string, body []byte, header map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.Response)
	return r
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawSocket is a websocket that does nothing unless told: it does not
// answer pings, so tests can play a broken or hostile client.
type rawSocket struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRaw(t *testing.T, baseURL string, opts *websocket.DialOptions) *rawSocket {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql", opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &rawSocket{t: t, conn: conn}
}

func (s *rawSocket) send(msg string) {
	s.t.Helper()
	if err := s.conn.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// next reads one message, failing on a close or after 5 s.
func (s *rawSocket) next() apitest.Message {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	var m apitest.Message
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Fatalf("bad message %s", b)
	}
	return m
}

// closed reads until the server closes the socket and returns the close
// status and reason (skipping pings and other messages).
func (s *rawSocket) closed(within time.Duration) (websocket.StatusCode, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := s.conn.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			s.t.Fatalf("socket not closed with a status within %v: %v", within, err)
		}
	}
}

// acked opens a socket as c and completes connection_init.
func acked(t *testing.T, baseURL, token string) *rawSocket {
	t.Helper()
	s := dialRaw(t, baseURL, nil)
	s.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + token + `"}}`)
	if m := s.next(); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	return s
}
