package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/realtime/redislog"
	"messenger/realtime/redisturns"
	"messenger/redistest"
	"messenger/storage"
	"messenger/storage/pebble"
)

// domain is a chat service on the embedded backends, for the domain rules'
// tests: a Pebble store in a temporary directory and the in-process log.
type domain struct {
	svc   *chat.Service
	store storage.Store
	log   realtime.Log
}

// newDomain starts a service; adjust changes its Config before it starts
// (sweeps are by hand unless adjust says otherwise).
func newDomain(t *testing.T, adjust func(*chat.Config)) *domain {
	t.Helper()
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	return newDomainOn(t, store, log, adjust)
}

// newDomainOn starts a service (one API instance) on a store and a log that
// other instances may share.
func newDomainOn(t *testing.T, store storage.Store, log realtime.Log, adjust func(*chat.Config)) *domain {
	t.Helper()
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := chat.Config{Store: store, Log: log, Tokens: tokens, FanOutSweep: -1}
	if adjust != nil {
		adjust(&cfg)
	}
	svc, err := chat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return &domain{svc: svc, store: store, log: log}
}

// users creates n users directly in the store and returns their ids.
func (d *domain) users(t *testing.T, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		name := fmt.Sprintf("u%x", rand.Uint64())
		ids[i] = "user-" + name
		u := storage.User{ID: ids[i], Username: name, UsernameKey: name, DisplayName: name, CreatedAt: time.Now().UTC()}
		if err := d.store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// group creates a group of owner and others.
func (d *domain) group(t *testing.T, owner string, others ...string) string {
	t.Helper()
	c, err := d.svc.CreateGroup(context.Background(), owner, "group", others)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// stream is one user's events from the moment it was opened.
type stream struct {
	user   string
	events <-chan realtime.Event
}

// open subscribes to userID's log; the subscription ends with the test.
func open(t *testing.T, log realtime.Log, userID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events, _, err := realtime.Chan(ctx, log, userID, "")
	if err != nil {
		t.Fatal(err)
	}
	return &stream{user: userID, events: events}
}

// markerUser names the marker event (see messages).
const markerUser = "end-of-test-marker"

// messages returns the MessageAdded events the stream received, in order,
// up to now: it appends a marker event to the user's log through svc and
// reads until the marker, so everything appended before it is there.
func (st *stream) messages(t *testing.T, svc *chat.Service) []storage.Message {
	t.Helper()
	svc.Publish(context.Background(), []string{st.user}, &chat.MemberLeft{UserID: markerUser})
	var out []storage.Message
	for {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatalf("%s's subscription ended", st.user)
			}
			switch ev.Type {
			case "MemberLeft":
				var e chat.MemberLeft
				if err := json.Unmarshal(ev.Data, &e); err == nil && e.UserID == markerUser {
					return out
				}
			case "MessageAdded":
				var e chat.MessageAdded
				if err := json.Unmarshal(ev.Data, &e); err != nil || e.Message == nil {
					t.Fatalf("undecodable MessageAdded %s: %v", ev.Data, err)
				}
				out = append(out, *e.Message)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the marker did not arrive; got %d messages", st.user, len(out))
		}
	}
}

// redisLogTurns opens one instance's Redis Streams log on cfg and its
// Redis turns, both under prefix (the caller's test keys), closed when tb
// ends.
func redisLogTurns(tb testing.TB, cfg redislog.Config, prefix string) (*redislog.Log, realtime.Turns) {
	tb.Helper()
	cfg.KeyPrefix = prefix + "rt:"
	log, err := redislog.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { log.Close() })
	turns, err := redisturns.New(redisturns.Config{Client: redistest.Client(tb), KeyPrefix: prefix + "turns:"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { turns.Close() })
	return log, turns
}

// newFleet starts n services (API instances) on one store, each with its
// own Redis Streams log and Redis turns on the test run's real Redis, under
// key prefixes of this test only; it skips without MESSENGER_REDIS_ADDRS.
func newFleet(t *testing.T, n int, adjust func(*chat.Config)) []*domain {
	t.Helper()
	addrs := redistest.Addrs(t)
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	prefix := fmt.Sprintf("test-chat-%x:", rand.Uint64())
	fleet := make([]*domain, n)
	for i := range fleet {
		log, turns := redisLogTurns(t, redislog.Config{Addrs: strings.Split(addrs, ",")}, prefix)
		fleet[i] = newDomainOn(t, store, log, func(c *chat.Config) {
			c.Turns = turns
			if adjust != nil {
				adjust(c)
			}
		})
	}
	return fleet
}
