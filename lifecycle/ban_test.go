package lifecycle_test

import (
	"context"
	"testing"

	"messenger/fault"
)

func TestBanEndsSessionsAndRefusesSignInUntilUnbanned(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice := e.signUp(t, "alice")
	a := alice.User.ID
	u, err := e.life.Ban(ctx, a)
	if err != nil || u.BannedAt.IsZero() {
		t.Fatalf("Ban: %+v %v", u, err)
	}
	if count(&e.hooks.revoked, a) != 1 {
		t.Fatal("a ban did not end the sessions")
	}
	if _, _, err := e.tokens.VerifyContext(ctx, alice.Token); err == nil {
		t.Fatal("a banned user's token verified")
	}
	_, err = e.chat.LogIn(ctx, "alice", "password1")
	wantCode(t, err, fault.Forbidden, "")
	if again, err := e.life.Ban(ctx, a); err != nil || !again.BannedAt.Equal(u.BannedAt) {
		t.Fatalf("banning twice moved BannedAt: %+v %v", again, err)
	}
	if u, err := e.life.Unban(ctx, a); err != nil || !u.BannedAt.IsZero() {
		t.Fatalf("Unban: %+v %v", u, err)
	}
	if _, err := e.chat.LogIn(ctx, "alice", "password1"); err != nil {
		t.Fatalf("log-in after unban: %v", err)
	}
	if _, err := e.life.Unban(ctx, a); err != nil {
		t.Fatalf("unbanning a user who is not banned: %v", err)
	}
}

func TestBanRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.life.Ban(ctx, "nobody")
	wantCode(t, err, fault.NotFound, "")
	_, err = e.life.Unban(ctx, "nobody")
	wantCode(t, err, fault.NotFound, "")
	a := e.signUp(t, "alice").User.ID
	if _, err := e.life.DeleteAccount(ctx, a, "password1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.life.Ban(ctx, a)
	wantCode(t, err, fault.Conflict, "")
}

func TestFindUserByUsernameOrID(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.signUp(t, "Alice").User.ID
	for _, q := range []string{"alice", "@ALICE", " Alice ", a} {
		if u, err := e.life.FindUser(ctx, q); err != nil || u.ID != a {
			t.Fatalf("FindUser(%q): %+v %v", q, u, err)
		}
	}
	_, err := e.life.FindUser(ctx, "nobody")
	wantCode(t, err, fault.NotFound, "")
}
