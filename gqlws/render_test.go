package gqlws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// fanExecutor gives every subscription its own pushed stream, as the
// API's resolvers do, and counts how often a value is executed.
type fanExecutor struct {
	tr       *Transport
	mu       sync.Mutex
	streams  []*fanStream
	executed atomic.Int64
	reused   atomic.Int64
}

type fanStream struct {
	values chan string
	*Push
}

func (s *fanStream) Taken()     {}
func (s *fanStream) Skip() any  { return <-s.values }
func (s *fanStream) Err() error { return nil }

func (e *fanExecutor) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{RawQuery: p.Query, Operation: &ast.OperationDefinition{Operation: ast.Subscription}}, nil
}

func (e *fanExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	ctx = graphql.WithOperationContext(ctx, rc) // as gqlgen's executor does
	s := &fanStream{values: make(chan string, 16), Push: e.tr.Push(ctx)}
	s.Start(s)
	e.mu.Lock()
	e.streams = append(e.streams, s)
	e.mu.Unlock()
	return func(ctx context.Context) *graphql.Response {
		v, ok := <-s.values
		if !ok {
			return nil
		}
		e.executed.Add(1)
		return &graphql.Response{Data: json.RawMessage(v)}
	}, ctx
}

func (e *fanExecutor) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// subscribed waits until n subscriptions were dispatched.
func (e *fanExecutor) subscribed(t *testing.T, n int) []*fanStream {
	t.Helper()
	for i := 0; i < 500; i++ {
		e.mu.Lock()
		if len(e.streams) == n {
			s := append([]*fanStream(nil), e.streams...)
			e.mu.Unlock()
			return s
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d subscriptions were not dispatched", n)
	return nil
}

func startFan(t *testing.T) (string, *fanExecutor) {
	t.Helper()
	exec := &fanExecutor{}
	tr := New(Config{OnReuse: func(context.Context, any) { exec.reused.Add(1) }})
	exec.tr = tr
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, exec) }))
	t.Cleanup(func() { tr.Shutdown(); srv.Close() })
	return srv.Listener.Addr().String(), exec
}

func fanSubscribe(t *testing.T, addr, query string) *client {
	c := dial(t, addr, text(initMsg))
	c.next()
	q, _ := json.Marshal(query)
	c.write(text(`{"id":"s","type":"subscribe","payload":{"query":` + string(q) + `}}`))
	return c
}

// emit puts one event on every stream: the same key, each stream its own
// cursor, rendered with body.
func emit(streams []*fanStream, key any, body func(cursor string) string) {
	for i, s := range streams {
		cursor := fmt.Sprintf("cursor-%d-of-%v", i, key)
		s.values <- body(cursor)
		s.Ready(key, cursor)
	}
}

func TestSubscribersOfOneEventWithOneDocumentShareOneExecution(t *testing.T) {
	addr, exec := startFan(t)
	const n = 5
	clients := make([]*client, n)
	var streams []*fanStream
	for i := range clients {
		clients[i] = fanSubscribe(t, addr, "subscription { events { cursor body } }")
		streams = exec.subscribed(t, i+1) // in the clients' order
	}
	for ev := 1; ev <= 3; ev++ {
		key := fmt.Sprint("event-", ev)
		emit(streams, key, func(cursor string) string {
			return `{"events":{"cursor":"` + cursor + `","body":"hello ` + key + `"}}`
		})
		for i, c := range clients {
			m := c.next()
			want := `{"events":{"cursor":"cursor-` + fmt.Sprint(i) + `-of-` + key + `","body":"hello ` + key + `"}}`
			if m.Type != "next" || !strings.Contains(string(m.Payload), want) {
				t.Fatalf("socket %d, %s: got %s %s, want data %s", i, key, m.Type, m.Payload, want)
			}
		}
	}
	if got := exec.executed.Load(); got != 3 {
		t.Fatalf("%d executions for 3 events to %d subscribers with one document, want 3", got, n)
	}
	if got := exec.reused.Load(); got != 3*(n-1) {
		t.Fatalf("OnReuse called %d times, want %d", got, 3*(n-1))
	}
}

func TestARenderingIsNotSharedAcrossDocumentsOrWhenItsPatchIsAmbiguous(t *testing.T) {
	addr, exec := startFan(t)
	a := fanSubscribe(t, addr, "subscription { events { cursor body } }")
	exec.subscribed(t, 1)
	b := fanSubscribe(t, addr, "subscription { events { body cursor } }")
	streams := exec.subscribed(t, 2)
	emit(streams, "one", func(cursor string) string { return `{"events":{"cursor":"` + cursor + `"}}` })
	a.next()
	b.next()
	if got := exec.executed.Load(); got != 2 {
		t.Fatalf("two documents: %d executions, want 2", got)
	}
	// The body repeats the cursor: which occurrence to patch is unknown,
	// so each subscriber's value is executed.
	c := fanSubscribe(t, addr, "subscription { events { cursor body } }")
	streams = exec.subscribed(t, 3)
	ambiguous := func(cursor string) string {
		return `{"events":{"cursor":"` + cursor + `","body":"` + cursor + `"}}`
	}
	emit([]*fanStream{streams[0], streams[2]}, "two", ambiguous)
	for i, cl := range []*client{a, c} {
		m := cl.next()
		if !strings.Contains(string(m.Payload), fmt.Sprintf(`"body":"cursor-%d-of-two"`, i)) {
			t.Fatalf("socket %d got %s", i, m.Payload)
		}
	}
	if got := exec.executed.Load(); got != 4 {
		t.Fatalf("ambiguous patch: %d executions in all, want 4", got)
	}
}
