package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// centrifugo is Centrifugo (github.com/centrifugal/centrifugo) as a
// platform, for `-target centrifugo`: the way a chat is built on it. Each
// user's connection JWT subscribes it, server-side, to its personal channel
// user-<id> and to the channels of its groups; a direct message is one
// HTTP API broadcast to both members' personal channels, a group message
// one publish to the group's channel. Centrifugo persists nothing here
// (memory engine, no history): the comparison is with a system that does
// less, on purpose.
type centrifugo struct {
	base   string // http://host:port
	apiKey string
	secret []byte
	http   *http.Client
	d      websocket.Dialer

	mu     sync.Mutex
	groups map[string][]string // user id -> group channels
	nextID int
}

func newCentrifugo(base, apiKey, secret string, workers int, nd *netDialer) *centrifugo {
	tr := &http.Transport{DialContext: nd.DialContext, MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, IdleConnTimeout: 90 * time.Second}
	return &centrifugo{
		base: strings.TrimRight(base, "/"), apiKey: apiKey, secret: []byte(secret),
		http:   &http.Client{Transport: tr, Timeout: 60 * time.Second},
		d:      websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 15 * time.Second, ReadBufferSize: 2048, WriteBufferSize: 512, WriteBufferPool: &bufPool{}},
		groups: map[string][]string{},
	}
}

// users makes n user ids; tokens are minted at open, when the user's groups
// are known.
func (c *centrifugo) users(_ context.Context, n int) ([]user, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]user, n)
	for i := range out {
		c.nextID++
		id := "u" + strconv.Itoa(c.nextID)
		out[i] = user{ID: id, Name: id}
	}
	return out, nil
}

func (c *centrifugo) direct(_ context.Context, a, b user) (string, error) {
	return "user-" + a.ID + ",user-" + b.ID, nil
}

func (c *centrifugo) group(_ context.Context, owner user, members []user) (string, error) {
	ch := "group-" + randomHex(6)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range append([]user{owner}, members...) {
		c.groups[u.ID] = append(c.groups[u.ID], ch)
	}
	return ch, nil
}

func (c *centrifugo) token(u user) (string, error) {
	c.mu.Lock()
	channels := append([]string{"user-" + u.ID}, c.groups[u.ID]...)
	c.mu.Unlock()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": u.ID, "channels": channels, "exp": time.Now().Add(24 * time.Hour).Unix(),
	}).SignedString(c.secret)
}

// open speaks Centrifugo's JSON client protocol: a connect command with the
// token, whose reply lists the server-side subscriptions; then pushes, and
// empty-object pings answered with empty-object pongs.
func (c *centrifugo) open(ctx context.Context, u user, onNext func([]byte), onEnd func(error)) (*sub, openTimes, error) {
	var t openTimes
	tok, err := c.token(u)
	if err != nil {
		return nil, t, err
	}
	start := time.Now()
	ws, resp, err := c.d.DialContext(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/connection/websocket", nil)
	if err != nil {
		code := "WS_DIAL"
		if resp != nil {
			code = fmt.Sprintf("WS_DIAL_HTTP_%d", resp.StatusCode)
		}
		return nil, t, codedError{code, err.Error()}
	}
	t.Dialed = time.Since(start)
	s := &sub{c: ws}
	ws.SetReadLimit(1 << 20)
	connect, _ := json.Marshal(map[string]any{"id": 1, "connect": map[string]any{"token": tok, "name": "loadgen"}})
	if err := s.write(connect); err != nil {
		ws.Close()
		return nil, t, codedError{"WS_WRITE", err.Error()}
	}
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, t, closeError(err)
	}
	if !bytes.Contains(b, []byte(`"connect":`)) {
		ws.Close()
		return nil, t, codedError{"CONNECT", truncate(string(b), 300)}
	}
	t.Acked = time.Since(start)
	_ = ws.SetReadDeadline(time.Time{})
	go c.read(s, onNext, onEnd)
	return s, t, nil
}

func (c *centrifugo) read(s *sub, onNext func([]byte), onEnd func(error)) {
	var buf bytes.Buffer
	for {
		_, r, err := s.c.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if !s.closed.Load() && onEnd != nil {
				onEnd(closeError(err))
			}
			s.c.Close()
			return
		}
		b := bytes.TrimSpace(buf.Bytes())
		switch {
		case bytes.Equal(b, []byte("{}")):
			_ = s.write([]byte("{}"))
		case onNext != nil:
			onNext(b)
		}
	}
}

// send publishes through the server API: a broadcast to both personal
// channels of a direct pair, a publish to a group's channel.
func (c *centrifugo) send(ctx context.Context, _ user, conv, _ string, body string) error {
	data := map[string]string{"body": body}
	var method string
	var payload any
	if strings.HasPrefix(conv, "group-") {
		method, payload = "publish", map[string]any{"channel": conv, "data": data}
	} else {
		method, payload = "broadcast", map[string]any{"channels": strings.Split(conv, ","), "data": data}
	}
	b, _ := json.Marshal(payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/"+method, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", c.apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return codedError{"HTTP", err.Error()}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return codedError{"HTTP_" + strconv.Itoa(resp.StatusCode), truncate(string(out), 300)}
	}
	if bytes.Contains(out, []byte(`"error"`)) {
		return codedError{"API_ERROR", truncate(string(out), 300)}
	}
	return nil
}
