package chat_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/fault"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/storage/pebble"
)

// rulesEnv is the domain on its embedded backends (Pebble, the in-process
// log), with a clock the test moves: the place to test a product rule
// without GraphQL or a server.
type rulesEnv struct {
	chat *chat.Service
	log  realtime.Log
	mu   sync.Mutex
	now  time.Time
}

func newRulesEnv(t *testing.T, tweak func(*chat.Config)) *rulesEnv {
	t.Helper()
	st, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	e := &rulesEnv{log: memlog.New(memlog.Config{}), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg := chat.Config{
		Store: st, Log: e.log, Tokens: tokens, Now: e.clock, FanOutSweep: -1,
		PasswordCost: auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	svc, err := chat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.chat = svc
	t.Cleanup(func() {
		svc.Close()
		_ = cfg.Log.Close()
		_ = st.Close()
	})
	return e
}

func (e *rulesEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *rulesEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

var userSeq struct {
	sync.Mutex
	n int
}

// user signs up a new user and returns their id.
func (e *rulesEnv) user(t *testing.T, name string) string {
	t.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	s, err := e.chat.SignUp(context.Background(), fmt.Sprintf("%s%d", name, n), "correct horse battery", name)
	if err != nil {
		t.Fatal(err)
	}
	return s.User.ID
}

// code is the error's code in the shared vocabulary ("" for nil).
func code(err error) fault.Code {
	if err == nil {
		return ""
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return "UNCLASSIFIED: " + fault.Code(err.Error())
}

func ten() *int { n := 10; return &n }
