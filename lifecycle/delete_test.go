package lifecycle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"messenger/fault"
	"messenger/storage"
)

func TestDeleteAccountWithAWrongPasswordChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice := e.signUp(t, "alice")
	for _, pw := range []string{"", "wrong-password", string(make([]byte, 300))} {
		_, err := e.life.DeleteAccount(ctx, alice.User.ID, pw)
		wantCode(t, err, fault.BadUserInput, "password")
	}
	if u := e.user(t, alice.User.ID); !u.DeletedAt.IsZero() || u.DisplayName != "Alice" {
		t.Fatalf("a refused deletion changed the account: %+v", u)
	}
	if _, err := e.store.LatestJob(ctx, alice.User.ID, storage.JobDeleteAccount); err == nil {
		t.Fatal("a refused deletion created a job")
	}
	if count(&e.hooks.revoked, alice.User.ID) != 0 {
		t.Fatal("a refused deletion ended sessions")
	}
	if _, err := e.chat.LogIn(ctx, "alice", "password1"); err != nil {
		t.Fatalf("log-in after a refused deletion: %v", err)
	}
}

func TestDeletedAccountBecomesATombstoneAndItsMessagesAreErased(t *testing.T) {
	testDeletion(t, newEnv(t, nil))
}

func testDeletion(t *testing.T, e *env) {
	ctx := context.Background()
	alice, bob := e.signUp(t, "alice"), e.signUp(t, "bob")
	a, b := alice.User.ID, bob.User.ID
	g, err := e.chat.CreateGroup(ctx, a, "friends", []string{b})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.chat.CreateDirect(ctx, b, a)
	if err != nil {
		t.Fatal(err)
	}
	var mine, theirs []storage.Message
	for i := range 5 {
		for _, c := range []string{g.ID, d.ID} {
			m, err := e.chat.Send(ctx, a, c, fmt.Sprintf("a%d%s", i, c), "secret from alice")
			if err != nil {
				t.Fatal(err)
			}
			mine = append(mine, m)
			m, err = e.chat.Send(ctx, b, c, fmt.Sprintf("b%d%s", i, c), "from bob")
			if err != nil {
				t.Fatal(err)
			}
			theirs = append(theirs, m)
		}
	}
	e.clock.Add(48 * time.Hour) // older than the recall window: erasure is not a recall

	job, err := e.life.DeleteAccount(ctx, a, "password1")
	if err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	// At once: a tombstone, no sessions, no tokens, no log-in.
	u := e.user(t, a)
	if u.DeletedAt.IsZero() || u.DisplayName != storage.DeletedDisplayName || u.Username != storage.DeletedUsername || u.PasswordHash != "" {
		t.Fatalf("not a tombstone: %+v", u)
	}
	if count(&e.hooks.revoked, a) == 0 {
		t.Fatal("sessions were not ended")
	}
	if ok, _ := e.chat.AccountExists(ctx, a); ok {
		t.Fatal("a deleted account's tokens are still accepted")
	}
	if _, _, err := e.tokens.VerifyContext(ctx, alice.Token); err == nil {
		t.Fatal("a deleted account's token verified")
	}
	if _, err := e.chat.LogIn(ctx, "alice", "password1"); err == nil {
		t.Fatal("a deleted account signed in")
	}
	again, err := e.life.DeleteAccountByOperator(ctx, a)
	if err != nil || again.JobID != job.JobID {
		t.Fatalf("deleting again: job %s (want %s), %v", again.JobID, job.JobID, err)
	}

	e.runJobs(t)
	got, err := e.store.Job(ctx, job.JobID)
	if err != nil || got.State != storage.JobPending || got.Progress != "username" || got.RunAfter.IsZero() {
		t.Fatalf("after the erasure the job waits for the quarantine: %+v %v", got, err)
	}
	for _, m := range mine {
		ms, _ := e.store.Messages(ctx, m.ConversationID, []int64{m.Seq})
		if ms[m.Seq].Body != "" || ms[m.Seq].DeletedAt == nil {
			t.Fatalf("alice's message %s survived: %+v", m.ID, ms[m.Seq])
		}
	}
	for _, m := range theirs {
		ms, _ := e.store.Messages(ctx, m.ConversationID, []int64{m.Seq})
		if ms[m.Seq].Body != "from bob" || ms[m.Seq].DeletedAt != nil {
			t.Fatalf("bob's message %s was touched: %+v", m.ID, ms[m.Seq])
		}
	}
	if count(&e.hooks.forgotten, a) == 0 {
		t.Fatal("privacy was not forgotten")
	}
	// The username is quarantined, then released.
	if _, err := e.chat.SignUp(ctx, "Alice", "password2", "Impostor"); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("sign-up with a quarantined username: %v, want CONFLICT", err)
	}
	if n := e.runJobs(t); n != 0 {
		t.Fatalf("a job ran %d times before its time", n)
	}
	e.clock.Add(31 * 24 * time.Hour)
	e.runJobs(t)
	if got, _ := e.store.Job(ctx, job.JobID); got.State != storage.JobDone {
		t.Fatalf("after the quarantine the job is %s, want DONE", got.State)
	}
	if _, err := e.chat.SignUp(ctx, "alice", "password2", "New Alice"); err != nil {
		t.Fatalf("sign-up with a released username: %v", err)
	}
	// Bob still sees the conversation, with a deleted account in it.
	if _, err := e.chat.Send(ctx, b, g.ID, "after", "still here"); err != nil {
		t.Fatalf("the group broke: %v", err)
	}
}

func TestOperatorDeletionOfAnUnknownUserIsNotFound(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.life.DeleteAccountByOperator(context.Background(), "nobody")
	wantCode(t, err, fault.NotFound, "")
}
