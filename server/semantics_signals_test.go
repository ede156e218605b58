package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
)

// Typing and presence: ephemeral signals.

func TestTypingReachesTheOthersAndIsNeverReplayed(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner, alice, bob, eve := api.signUp(t, "owner"), api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
	group := createGroup(t, owner, "typing", alice, bob)
	aliceEv, bobEv := subscribe(t, alice), subscribe(t, bob)
	sendMsg(t, owner, group, "1", "anyone?")
	resumeFrom := bobEv.NextOfType(t, "MessageAdded").Cursor
	aliceEv.NextOfType(t, "MessageAdded")

	typingAt := clk.Advance(time.Second)
	owner.Must(t, typingOp, map[string]any{"c": group, "on": true}, nil)
	for name, ev := range map[string]*apitest.Events{"alice": aliceEv, "bob": bobEv} {
		e := ev.NextOfType(t, "TypingUpdated")
		if !e.Typing || !e.Ephemeral || e.Cursor != "" || e.User.ID != owner.UserID || !strings.Contains(string(e.Raw), group) {
			t.Fatalf("%s got %s", name, e.Raw)
		}
		var exp struct{ ExpiresAt *string }
		_ = json.Unmarshal(e.Raw, &exp)
		if !sameTime(t, exp.ExpiresAt, typingAt.Add(6*time.Second)) {
			t.Fatalf("typing expires at %v, want a few seconds on: %s", exp.ExpiresAt, at(typingAt.Add(6*time.Second)))
		}
	}
	ownerEv := subscribe(t, owner)
	alice.Must(t, typingOp, map[string]any{"c": group, "on": true}, nil)
	e := bobEv.NextOfType(t, "TypingUpdated")
	if e.User.ID != alice.UserID {
		t.Fatalf("bob got %s", e.Raw)
	}
	if evs := ownerEv.Collect(t, quiet); len(ofType(evs, "TypingUpdated")) != 1 {
		t.Fatalf("the owner should hear alice typing once (and not himself): %v", typesOf(evs))
	}
	if evs := aliceEv.Collect(t, 50*time.Millisecond); len(ofType(evs, "TypingUpdated")) != 0 {
		t.Fatalf("alice heard herself typing: %v", typesOf(evs))
	}
	owner.Must(t, typingOp, map[string]any{"c": group, "on": false}, nil)
	if e := bobEv.NextOfType(t, "TypingUpdated"); e.Typing || e.User.ID != owner.UserID || !strings.Contains(string(e.Raw), `"expiresAt":null`) {
		t.Fatalf("stop typing: %s", e.Raw)
	}
	eve.Refused(t, "NOT_FOUND", typingOp, map[string]any{"c": group, "on": true})

	// Resuming replays durable events only.
	bobEv.Close()
	sendMsg(t, owner, group, "2", "still there?")
	resumed := bob.Subscribe(t.Context(), t, resumeFrom)
	if e := resumed.Next(t); e.Typename != "MessageAdded" || e.Message.Seq != 2 {
		t.Fatalf("the first resumed event is %s, want MessageAdded seq 2", e.Raw)
	}
	if evs := resumed.Collect(t, quiet); len(ofType(evs, "TypingUpdated")) > 0 {
		t.Fatalf("typing was replayed on resume: %v", typesOf(evs))
	}
}

func TestPresenceFollowsLiveSubscriptions(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob, eve := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
	startDirect(t, alice, bob)
	if seen := waitPresence(t, alice, bob.UserID, false); seen != nil {
		t.Fatalf("bob was never online but has lastSeenAt %s", *seen)
	}
	aliceEv := subscribe(t, alice)
	eveEv := subscribe(t, eve)

	first := subscribe(t, bob)
	if e := aliceEv.NextOfType(t, "PresenceUpdated"); !e.Online || e.User.ID != bob.UserID || !e.Ephemeral || e.Cursor != "" {
		t.Fatalf("alice got %s", e.Raw)
	}
	second := bob.Subscribe(t.Context(), t, "")
	time.Sleep(100 * time.Millisecond)
	first.Close()
	time.Sleep(100 * time.Millisecond)
	if seen := waitPresence(t, alice, bob.UserID, true); seen != nil {
		t.Fatalf("bob is online with a lastSeenAt %s", *seen)
	}
	leftAt := clk.Advance(time.Minute)
	second.Close()
	seen := waitPresence(t, alice, bob.UserID, false)
	if !sameTime(t, seen, leftAt) {
		t.Fatalf("lastSeenAt = %v, want %s", seen, at(leftAt))
	}
	e := aliceEv.NextOfType(t, "PresenceUpdated")
	var offline struct{ LastSeenAt *string }
	_ = json.Unmarshal(e.Raw, &offline)
	if e.Online || e.User.ID != bob.UserID || !sameTime(t, offline.LastSeenAt, leftAt) {
		t.Fatalf("alice got %s, want bob offline since %s", e.Raw, at(leftAt))
	}
	if evs := eveEv.Collect(t, quiet); len(ofType(evs, "PresenceUpdated")) > 0 {
		t.Fatalf("eve shares no conversation with bob but got %v", typesOf(evs))
	}
}

// TestPresenceSettlesOnTheLastChange: however fast a user comes and goes,
// the last presence their contacts hear is the true one.
func TestPresenceSettlesOnTheLastChange(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	startDirect(t, alice, bob)
	aliceEv := subscribe(t, alice)
	for i := range 30 {
		s := bob.Subscribe(t.Context(), t, "")
		if i%2 == 0 {
			waitPresence(t, alice, bob.UserID, true)
		}
		s.Close()
	}
	time.Sleep(quiet)
	waitPresence(t, alice, bob.UserID, false)
	var last *apitest.Event
	for _, e := range ofType(aliceEv.Collect(t, quiet), "PresenceUpdated") {
		last = &e
	}
	if last == nil || last.Online {
		t.Fatalf("bob is offline, but the last presence alice heard is %+v", last)
	}
}
