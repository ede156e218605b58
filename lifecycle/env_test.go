package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/auth"
	"messenger/blob/folder"
	"messenger/chat"
	"messenger/fault"
	"messenger/lifecycle"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/pebble"
)

// clock is a settable clock shared by the domain and lifecycle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// hooks records the calls of the other layers' hooks.
type hooks struct {
	revoked, forgotten, mediaErased sync.Map // userID -> count
}

func (h *hooks) RevokeAllSessions(_ context.Context, userID string) error {
	incr(&h.revoked, userID)
	return nil
}

func (h *hooks) ForgetPrivacy(_ context.Context, userID string) error {
	incr(&h.forgotten, userID)
	return nil
}

func incr(m *sync.Map, k string) {
	v, _ := m.LoadOrStore(k, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func count(m *sync.Map, k string) int64 {
	v, ok := m.Load(k)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

// env is chat and lifecycle on the embedded backends.
type env struct {
	chat   *chat.Service
	life   *lifecycle.Service
	store  storage.Store
	blobs  *folder.Store
	clock  *clock
	hooks  *hooks
	tokens *auth.Tokens
}

func newEnv(t *testing.T, adjust func(*lifecycle.Config)) *env {
	t.Helper()
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newEnvOn(t, store, adjust)
}

func newEnvOn(t *testing.T, store storage.Store, adjust func(*lifecycle.Config)) *env {
	t.Helper()
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32)), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chat.New(chat.Config{Store: store, Log: log, Tokens: tokens, FanOutSweep: -1, Now: c.Now,
		PasswordCost: auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	blobs, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: []byte(strings.Repeat("s", 32)), BaseURL: "http://api.test"})
	if err != nil {
		t.Fatal(err)
	}
	h := &hooks{}
	cfg := lifecycle.Config{Store: store, Domain: svc, Blobs: blobs, Sessions: h, Privacy: h, Now: c.Now, TempDir: t.TempDir(),
		Runner: lifecycle.RunnerConfig{Poll: -1}}
	if adjust != nil {
		adjust(&cfg)
	}
	life, err := lifecycle.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{chat: svc, life: life, store: store, blobs: blobs, clock: c, hooks: h, tokens: tokens}
}

// signUp creates an account with password "password1".
func (e *env) signUp(t *testing.T, name string) chat.Session {
	t.Helper()
	s, err := e.chat.SignUp(context.Background(), name, "password1", strings.ToUpper(name[:1])+name[1:])
	if err != nil {
		t.Fatalf("SignUp %s: %v", name, err)
	}
	return s
}

// runJobs runs every due job.
func (e *env) runJobs(t *testing.T) int {
	t.Helper()
	n, err := e.life.Jobs().RunPending(context.Background())
	if err != nil {
		t.Fatalf("RunPending: %v", err)
	}
	return n
}

func (e *env) user(t *testing.T, id string) storage.User {
	t.Helper()
	us, err := e.store.Users(context.Background(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return us[id]
}

// wantCode fails unless err is a refusal with code (and field, if given).
func wantCode(t *testing.T, err error, code fault.Code, field string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != code || (field != "" && fe.Field != field) {
		t.Fatalf("got %v, want %s on field %q", err, code, field)
	}
}

func asFault(err error, fe **fault.Error) bool { return errors.As(err, fe) }
