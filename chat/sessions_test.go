package chat_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/fault"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/revocation"
	"messenger/revocation/memrevocation"
	"messenger/storage"
	"messenger/storage/pebble"
)

// appendSpy records the durable events appended, by user.
type appendSpy struct {
	realtime.Log
	mu     sync.Mutex
	events map[string][]string
}

func (a *appendSpy) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	a.mu.Lock()
	for _, u := range userIDs {
		a.events[u] = append(a.events[u], e.Type)
	}
	a.mu.Unlock()
	return a.Log.Append(ctx, userIDs, e)
}

func (a *appendSpy) count(userID, typ string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, t := range a.events[userID] {
		if t == typ {
			n++
		}
	}
	return n
}

// endings is a SessionEndListener that records what it is told.
type endings struct {
	mu    sync.Mutex
	ended []string
}

func (e *endings) SessionEnded(_ context.Context, userID, sessionID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ended = append(e.ended, userID+"/"+sessionID)
}

func (e *endings) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ended...)
}

// sessionEnv is one API instance on the embedded backends, with a clock
// the test moves.
type sessionEnv struct {
	svc      *chat.Service
	store    storage.Store
	tokens   *auth.Tokens
	log      *appendSpy
	listener *endings
	mu       sync.Mutex
	now      time.Time
}

func newSessionEnv(t *testing.T, store storage.Store, bus revocation.Bus) *sessionEnv {
	t.Helper()
	e := &sessionEnv{now: time.Now(), listener: &endings{}}
	if store == nil {
		s, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		store = s
	}
	e.store = store
	ml := memlog.New(memlog.Config{})
	t.Cleanup(func() { _ = ml.Close() })
	e.log = &appendSpy{Log: ml, events: map[string][]string{}}
	var err error
	e.tokens, err = auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32)), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = chat.New(chat.Config{Store: store, Log: e.log, Tokens: e.tokens, FanOutSweep: -1, Now: e.clock,
		PasswordCost: auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}, Revocations: bus, SessionEndListener: e.listener})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.svc.Close)
	return e
}

func (e *sessionEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *sessionEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *sessionEnv) verify(tok string) error {
	_, err := e.tokens.VerifyIdentity(context.Background(), tok)
	return err
}

func TestSignUpAndLogInOpenASessionPerDevice(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	phone, err := e.svc.SignUpFrom(ctx, chat.Device{Name: " Ana's Pixel ", Platform: "android", IP: "203.0.113.7"}, "ana", "password1", "Ana")
	if err != nil {
		t.Fatal(err)
	}
	if phone.ExpiresAt.Sub(e.clock()) != auth.DefaultTTL {
		t.Fatalf("access token lives %v, want %v", phone.ExpiresAt.Sub(e.clock()), auth.DefaultTTL)
	}
	e.advance(time.Second)
	laptop, err := e.svc.LogInFrom(ctx, chat.Device{Name: "Firefox", Platform: "web"}, "ANA", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if phone.Device.ID == laptop.Device.ID || phone.RefreshToken == "" {
		t.Fatalf("sessions: %+v / %+v", phone.Device, laptop.Device)
	}
	list, err := e.svc.Sessions(ctx, phone.User.ID, laptop.Device.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
	if list[0].DeviceName != "Ana's Pixel" || list[0].Platform != "android" || list[0].IP != "203.0.113.7" || list[0].Current || !list[1].Current {
		t.Fatalf("session list: %+v", list)
	}
	if err := e.verify(phone.Token); err != nil {
		t.Fatalf("phone's access token: %v", err)
	}
	// The phone never refreshes again: once its refresh token has expired
	// the session is gone from the list (the laptop refreshed meanwhile).
	e.advance(auth.DefaultRefreshTTL - time.Hour)
	if _, err := e.svc.RefreshSession(ctx, laptop.RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour)
	list, err = e.svc.Sessions(ctx, phone.User.ID, laptop.Device.ID)
	if err != nil || len(list) != 1 || list[0].ID != laptop.Device.ID {
		t.Fatalf("after the phone's refresh token expired: %+v, %v", list, err)
	}
}

func TestRefreshRotatesAndReuseEndsTheSession(t *testing.T) {
	refreshRotatesAndReuseEndsTheSession(t, newSessionEnv(t, nil, nil))
}

func refreshRotatesAndReuseEndsTheSession(t *testing.T, e *sessionEnv) {
	ctx := context.Background()
	s0, err := e.svc.SignUp(ctx, "bobox", "password1", "Bo")
	if err != nil {
		t.Fatal(err)
	}
	e.advance(auth.DefaultTTL + time.Second)
	if err := e.verify(s0.Token); err == nil {
		t.Fatal("the access token outlived its 15 minutes")
	}
	s1, err := e.svc.RefreshSession(ctx, s0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Device.ID != s0.Device.ID || s1.RefreshToken == s0.RefreshToken || !s1.Device.LastSeenAt.Equal(e.clock().UTC().Truncate(time.Millisecond)) {
		t.Fatalf("refresh gave %+v", s1.Device)
	}
	if err := e.verify(s1.Token); err != nil {
		t.Fatalf("the new access token: %v", err)
	}
	s2, err := e.svc.RefreshSession(ctx, s1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// s0's refresh token was spent: presenting it again is a theft signal.
	if _, err := e.svc.RefreshSession(ctx, s0.RefreshToken); fault.CodeOf(err) != fault.Unauthenticated {
		t.Fatalf("reused refresh token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := e.svc.RefreshSession(ctx, s2.RefreshToken); fault.CodeOf(err) != fault.Unauthenticated {
		t.Fatalf("the latest refresh token after a reuse: %v, want UNAUTHENTICATED (the session ended)", err)
	}
	if err := e.verify(s2.Token); err == nil {
		t.Fatal("the session's access token still works after the reuse")
	}
	if e.log.count(s0.User.ID, "SessionRevoked") != 1 || len(e.listener.list()) != 1 {
		t.Fatalf("SessionRevoked events %d, listener %v", e.log.count(s0.User.ID, "SessionRevoked"), e.listener.list())
	}
}

func TestRefreshTokensExpire(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	s, err := e.svc.SignUp(context.Background(), "cycyx", "password1", "Cy")
	if err != nil {
		t.Fatal(err)
	}
	e.advance(auth.DefaultRefreshTTL + time.Second)
	if _, err := e.svc.RefreshSession(context.Background(), s.RefreshToken); fault.CodeOf(err) != fault.Unauthenticated {
		t.Fatalf("expired refresh token: %v", err)
	}
	for _, bad := range []string{"", "garbage", s.Token} {
		if _, err := e.svc.RefreshSession(context.Background(), bad); fault.CodeOf(err) != fault.Unauthenticated {
			t.Fatalf("refresh with %q: %v", bad, err)
		}
	}
}

func TestRevokingAndLoggingOut(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	a, _ := e.svc.SignUp(ctx, "didix", "password1", "Di")
	b, _ := e.svc.LogIn(ctx, "didix", "password1")
	c, _ := e.svc.LogIn(ctx, "didix", "password1")
	other, _ := e.svc.SignUp(ctx, "ededx", "password1", "Ed")
	me := a.User.ID

	if err := e.svc.RevokeSession(ctx, me, a.Device.ID, other.Device.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("revoking someone else's session: %v, want NOT_FOUND", err)
	}
	if err := e.svc.RevokeSession(ctx, me, a.Device.ID, "not-a-session"); fault.CodeOf(err) != fault.BadUserInput {
		t.Fatalf("malformed id: %v, want BAD_USER_INPUT", err)
	}
	if err := e.verify(other.Token); err != nil {
		t.Fatalf("the other user's session was touched: %v", err)
	}
	if err := e.svc.RevokeSession(ctx, me, a.Device.ID, b.Device.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.verify(b.Token); err == nil {
		t.Fatal("a revoked session's token still works")
	}
	if err := e.svc.RevokeSession(ctx, me, a.Device.ID, b.Device.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("revoking twice: %v, want NOT_FOUND", err)
	}
	n, err := e.svc.RevokeOtherSessions(ctx, me, a.Device.ID)
	if err != nil || n != 1 {
		t.Fatalf("RevokeOtherSessions = %d, %v; want 1 (c)", n, err)
	}
	if err := e.verify(c.Token); err == nil {
		t.Fatal("c survived revokeOtherSessions")
	}
	if err := e.verify(a.Token); err != nil {
		t.Fatalf("the current session must survive: %v", err)
	}
	if err := e.svc.LogOut(ctx, me, a.Device.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.verify(a.Token); err == nil {
		t.Fatal("logged out, the token still works")
	}
	if list, _ := e.svc.Sessions(ctx, me, ""); len(list) != 0 {
		t.Fatalf("sessions left: %+v", list)
	}
	if got := len(e.listener.list()); got != 3 || e.log.count(me, "SessionRevoked") != 3 {
		t.Fatalf("listener heard %d endings, %d events; want 3", got, e.log.count(me, "SessionRevoked"))
	}
}

func TestChangePasswordEndsEveryOtherSession(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	a, _ := e.svc.SignUp(ctx, "fafax", "password1", "Fa")
	b, _ := e.svc.LogIn(ctx, "fafax", "password1")
	me := a.User.ID
	for _, bad := range []struct {
		old, new string
		code     fault.Code
	}{{"password1", "short", fault.BadUserInput}, {"wrong-password", "password2", fault.Forbidden}} {
		if err := e.svc.ChangePassword(ctx, me, a.Device.ID, bad.old, bad.new); fault.CodeOf(err) != bad.code {
			t.Fatalf("ChangePassword(%q, %q) = %v, want %s", bad.old, bad.new, err, bad.code)
		}
	}
	if err := e.verify(b.Token); err != nil {
		t.Fatalf("a refused change ended a session: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, me, a.Device.ID, "password1", "password2"); err != nil {
		t.Fatal(err)
	}
	if err := e.verify(b.Token); err == nil {
		t.Fatal("the other session survived the password change")
	}
	if err := e.verify(a.Token); err != nil {
		t.Fatalf("the current session must survive: %v", err)
	}
	if _, err := e.svc.LogIn(ctx, "fafax", "password1"); fault.CodeOf(err) != fault.Unauthenticated {
		t.Fatalf("the old password still works: %v", err)
	}
	if _, err := e.svc.LogIn(ctx, "fafax", "password2"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

func TestRevokeAllSessionsAndBannedOrDeletedUsers(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	a, _ := e.svc.SignUp(ctx, "gigix", "password1", "Gi")
	b, _ := e.svc.LogIn(ctx, "gigix", "password1")
	if err := e.svc.RevokeAllSessions(ctx, a.User.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{a.Token, b.Token} {
		if err := e.verify(tok); err == nil {
			t.Fatal("a token survived RevokeAllSessions")
		}
	}
	if _, err := e.svc.RefreshSession(ctx, b.RefreshToken); fault.CodeOf(err) != fault.Unauthenticated {
		t.Fatalf("refresh after RevokeAllSessions: %v", err)
	}
	if got := len(e.listener.list()); got != 2 {
		t.Fatalf("listener heard %d endings, want 2", got)
	}
}

func TestSessionEndsReachEveryInstance(t *testing.T) {
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	bus := memrevocation.New()
	sessionEndsReachEveryInstance(t, newSessionEnv(t, store, bus), newSessionEnv(t, store, bus))
}

func sessionEndsReachEveryInstance(t *testing.T, one, two *sessionEnv) {
	ctx := context.Background()
	s, _ := one.svc.SignUp(ctx, "huhux", "password1", "Hu")
	if err := two.verify(s.Token); err != nil {
		t.Fatal(err) // instance two now holds the session as open for a minute
	}
	if err := one.svc.LogOut(ctx, s.User.ID, s.Device.ID); err != nil {
		t.Fatal(err)
	}
	// The store read is a minute away (instance two holds the session as
	// open): only the bus can tell it, within seconds.
	deadline := time.Now().Add(2 * time.Second)
	for two.verify(s.Token) == nil {
		if time.Now().After(deadline) {
			t.Fatal("instance two still accepts a session ended on instance one after 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBannedDeletedAndUnknownUsersCannotSignInOrUseTokens(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	hash, err := auth.HashPasswordWith("password1", auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	for name, u := range map[string]storage.User{
		"banned":  {ID: "u-banned", Username: "banned", UsernameKey: "banned", BannedAt: at},
		"deleted": {ID: "u-deleted", Username: "deleted", UsernameKey: "deleted", DeletedAt: at},
	} {
		u.DisplayName, u.PasswordHash, u.CreatedAt = name, hash, at
		if err := e.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		want := fault.Unauthenticated // deleted: the account is gone
		if name == "banned" {
			want = fault.Forbidden // the right password learns why
		}
		if _, err := e.svc.LogIn(ctx, u.Username, "password1"); fault.CodeOf(err) != want {
			t.Fatalf("%s user logged in: %v", name, err)
		}
		ses := storage.Session{ID: "s-" + name, UserID: u.ID, CreatedAt: at}
		if err := e.store.CreateSession(ctx, ses); err != nil {
			t.Fatal(err)
		}
		tok, _, _ := e.tokens.Issue(u.ID, ses.ID)
		if err := e.verify(tok); err == nil {
			t.Fatalf("%s user's access token accepted", name)
		}
		refresh, _, _ := e.tokens.IssueRefresh(u.ID, ses.ID, 0)
		if _, err := e.svc.RefreshSession(ctx, refresh); fault.CodeOf(err) != fault.Unauthenticated {
			t.Fatalf("%s user refreshed: %v", name, err)
		}
	}
	ghost, _, _ := e.tokens.Issue("nobody", "s-nobody")
	if err := e.verify(ghost); err == nil {
		t.Fatal("an unknown user's token accepted")
	}
}

func TestBadDeviceInputIsRefusedAndCreatesNothing(t *testing.T) {
	e := newSessionEnv(t, nil, nil)
	ctx := context.Background()
	for _, d := range []chat.Device{{Name: strings.Repeat("x", chat.MaxDeviceName+1)}, {Platform: "ios\x00"}} {
		_, err := e.svc.SignUpFrom(ctx, d, "ivan", "password1", "Ivan")
		if fault.CodeOf(err) != fault.BadUserInput {
			t.Fatalf("SignUpFrom(%+v) = %v, want BAD_USER_INPUT", d, err)
		}
	}
	if _, err := e.store.UserByUsername(ctx, "ivan"); err == nil {
		t.Fatal("a refused sign-up created the user")
	}
}
