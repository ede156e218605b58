package push_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/push"
	"messenger/push/pushtest"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/pebble"
)

var (
	_ chat.Notifier           = (*push.Service)(nil)
	_ chat.SessionEndListener = (*push.Service)(nil)
	_ chat.RecipientsNotifier = (*push.Service)(nil)
	_ chat.RecipientsNotifier = (*lateNotifier)(nil)
)

// env is a chat service on the embedded backends with the push pipeline
// plugged in, delivering to the local provider servers.
type env struct {
	chat  *chat.Service
	push  *push.Service
	store storage.Store
	queue push.Queue
	p     *providers
	m     *push.Metrics
}

func (e *env) metrics() *push.Metrics { return e.m }

type envOptions struct {
	queue    push.Queue
	store    storage.Store
	p        *providers
	noStart  bool
	mentions func(storage.Message, string) bool
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.store == nil {
		st, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		o.store = st
	}
	if o.queue == nil {
		q, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Close() })
		o.queue = q
	}
	if o.p == nil {
		o.p = startProviders(t)
	}
	e := &env{store: o.store, queue: o.queue, p: o.p}
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	var notifier lateNotifier
	e.chat, err = chat.New(chat.Config{Store: o.store, Log: log, Tokens: tokens, FanOutSweep: -1, Notifier: &notifier})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.chat.Close)
	var provs []push.Provider
	for _, pl := range platforms {
		provs = append(provs, o.p.clients[pl])
	}
	e.m = push.NewMetrics(nil)
	e.push, err = push.New(push.Config{Metrics: e.m,
		Store: o.store, Queue: o.queue, Providers: provs, Presence: e.chat, Unread: e.chat, Blocks: e.chat,
		Mentions: o.mentions, Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxAttempts: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	notifier.s = e.push
	if !o.noStart {
		e.push.Start()
		t.Cleanup(e.push.Close)
	}
	return e
}

// lateNotifier lets the chat service start before the push service.
type lateNotifier struct{ s *push.Service }

func (n *lateNotifier) MessageCreated(ctx context.Context, m storage.Message) error {
	return n.s.MessageCreated(ctx, m)
}

func (n *lateNotifier) MessageCreatedFor(ctx context.Context, m storage.Message, memberIDs []string) error {
	return n.s.MessageCreatedFor(ctx, m, memberIDs)
}

func (n *lateNotifier) MessageRecalled(ctx context.Context, m storage.Message) error {
	return n.s.MessageRecalled(ctx, m)
}

// users creates users directly in the store.
func (e *env) users(t testing.TB, names ...string) []string {
	t.Helper()
	ids := make([]string, len(names))
	for i, n := range names {
		key := fmt.Sprintf("%s%x", n, rand.Uint32())
		ids[i] = "user-" + key
		u := storage.User{ID: ids[i], Username: key, UsernameKey: key, DisplayName: n, CreatedAt: time.Now().UTC()}
		if err := e.store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// group creates a group whose members carry the given per-member settings.
func (e *env) group(t testing.TB, title string, owner string, members ...storage.Member) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := storage.Conversation{ID: "conv-" + fmt.Sprint(rand.Uint64()), Kind: storage.Group, Title: title, CreatedBy: owner, CreatedAt: now, LastActivityAt: now}
	ms := []storage.Member{{UserID: owner, Role: storage.RoleOwner, JoinedAt: now}}
	for _, m := range members {
		m.Role, m.JoinedAt = storage.RoleMember, now
		ms = append(ms, m)
	}
	for i := range ms {
		ms[i].ConversationID = c.ID
	}
	if _, _, err := e.store.CreateConversation(context.Background(), c, ms); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// device registers a device of user at the local service of platform.
func (e *env) device(t testing.TB, user string, pl storage.Platform) storage.Device {
	t.Helper()
	d := e.p.device(pl, user, fmt.Sprint(rand.Uint32()))
	got, err := e.push.RegisterDevice(context.Background(), user, push.DeviceInput{
		Platform: pl, Token: d.Token, Endpoint: d.Endpoint, P256dh: d.P256dh, Auth: d.Auth,
	})
	if err != nil {
		t.Fatalf("RegisterDevice: %v", err)
	}
	return got
}

func (e *env) send(t testing.TB, from, conv, body string) storage.Message {
	t.Helper()
	m, err := e.chat.Send(context.Background(), from, conv, fmt.Sprint(rand.Uint64()), body)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return m
}

// all returns every push the three services accepted.
func (e *env) all() []pushtest.Push {
	var out []pushtest.Push
	for _, pl := range platforms {
		out = append(out, e.p.pushes(pl)...)
	}
	return out
}

// waitPushes waits until n pushes in all were accepted.
func (e *env) waitPushes(t testing.TB, n int) []pushtest.Push {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := e.all(); len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := e.all()
	t.Fatalf("got %d pushes; want %d: %+v", len(got), n, got)
	return nil
}

// settle waits for the queue to drain, then a little for stragglers.
func (e *env) settle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if d, _ := e.queue.Depth(context.Background()); d == 0 {
			time.Sleep(50 * time.Millisecond)
			if d, _ := e.queue.Depth(context.Background()); d == 0 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("push queue did not drain")
}
