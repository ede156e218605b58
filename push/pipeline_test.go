package push_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/push"
	"messenger/storage"
)

func TestOfflineMemberGetsOnePushPerDeviceAndTheSenderNone(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	alice, bob := ids[0], ids[1]
	conv := e.group(t, "Trip", alice, storage.Member{UserID: bob})
	e.device(t, alice, storage.FCM)
	for _, pl := range platforms {
		e.device(t, bob, pl)
	}
	m := e.send(t, alice, conv, "see you at 8")
	got := e.waitPushes(t, 3)
	e.settle(t)
	if got = e.all(); len(got) != 3 {
		t.Fatalf("%d pushes; want one per device of bob (3), none to the sender", len(got))
	}
	for _, pl := range platforms {
		ps := e.p.pushes(pl)
		if pl == storage.FCM && ps[0].Device == "" {
			t.Fatal("FCM push without a token")
		}
		if body := shownBody(pl, ps[0]); body != "alice: see you at 8" {
			t.Errorf("%s body = %q", pl, body)
		}
	}
	aps := e.p.pushes(storage.APNs)[0].Payload["aps"].(map[string]any)
	if aps["alert"].(map[string]any)["title"] != "Trip" || aps["badge"] != float64(1) || aps["thread-id"] != conv {
		t.Errorf("APNs payload = %v; want title Trip, badge 1, thread %s", aps, conv)
	}
	if _, err := e.chat.Edit(context.Background(), alice, m.ID, "see you at 9"); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if n := len(e.all()); n != 3 {
		t.Fatalf("an edit pushed: %d pushes", n)
	}
}

func TestConnectedUserGetsNoPushUntilTheSocketCloses(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob", "carol")
	alice, bob, carol := ids[0], ids[1], ids[2]
	conv := e.group(t, "G", alice, storage.Member{UserID: bob}, storage.Member{UserID: carol})
	e.device(t, bob, storage.APNs)
	e.device(t, carol, storage.FCM)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.chat.Subscribe(ctx, bob, "", nil); err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, conv, "one")
	e.waitPushes(t, 1) // carol, offline
	e.settle(t)
	if n := len(e.p.pushes(storage.APNs)); n != 0 {
		t.Fatalf("bob, connected, got %d pushes", n)
	}
	cancel()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if on, _ := e.chat.Presence(context.Background(), bob); !on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob still online after his subscription ended")
		}
	}
	e.send(t, alice, conv, "two")
	e.waitPushes(t, 3)
	if ps := e.p.pushes(storage.APNs); len(ps) != 1 || shownBody(storage.APNs, ps[0]) != "alice: two" {
		t.Fatalf("bob's pushes after disconnecting = %+v", ps)
	}
}

func TestMutedNoneAndBlockedPushNothingButAMentionGetsThrough(t *testing.T) {
	mentions := func(m storage.Message, userID string) bool { return strings.Contains(m.Body, "@"+userID) }
	e := newEnv(t, envOptions{mentions: mentions})
	ids := e.users(t, "alice", "none", "muted", "blocker", "mentionsOnly", "mutedMentioned", "all", "defaultNone")
	alice := ids[0]
	conv := e.group(t, "G", alice,
		storage.Member{UserID: ids[1], NotificationLevel: storage.NotifyNone},
		storage.Member{UserID: ids[2], MutedUntil: storage.MutedForever},
		storage.Member{UserID: ids[3]},
		storage.Member{UserID: ids[4], NotificationLevel: storage.NotifyMentions},
		storage.Member{UserID: ids[5], MutedUntil: time.Now().Add(time.Hour)},
		storage.Member{UserID: ids[6]},
		storage.Member{UserID: ids[7]},
	)
	if _, err := e.chat.BlockUser(context.Background(), ids[3], alice); err != nil {
		t.Fatal(err)
	}
	none := storage.NotifyNone
	if _, err := e.push.SetNotificationSettings(context.Background(), ids[7], push.SettingsChange{DefaultLevel: &none}); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, u := range ids[1:] {
		tokens[e.device(t, u, storage.FCM).Token] = u
	}
	e.send(t, alice, conv, "hello @"+ids[5])
	e.waitPushes(t, 2)
	e.settle(t)
	got := map[string]bool{}
	for _, p := range e.p.pushes(storage.FCM) {
		got[tokens[p.Device]] = true
	}
	if len(got) != 2 || !got[ids[5]] || !got[ids[6]] {
		t.Fatalf("pushed to %v; want only the ALL member and the muted member who was mentioned", got)
	}
}

func TestWithoutPreviewTheNotificationSaysOnlyWhoWrote(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	e.device(t, ids[1], storage.WebPush)
	off := false
	if _, err := e.push.SetNotificationSettings(context.Background(), ids[1], push.SettingsChange{ShowPreview: &off}); err != nil {
		t.Fatal(err)
	}
	e.send(t, ids[0], conv, "the secret plan")
	got := e.waitPushes(t, 1)
	if body := shownBody(storage.WebPush, got[0]); strings.Contains(body, "secret") || !strings.Contains(body, "alice") {
		t.Fatalf("body without preview = %q", body)
	}
}

func TestAGoneDeviceIsDeleted(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	for _, pl := range platforms {
		e.p.unregister(e.device(t, ids[1], pl))
	}
	e.send(t, ids[0], conv, "hi")
	e.settle(t)
	if ds, _ := e.store.Devices(context.Background(), ids[1]); len(ds) != 0 {
		t.Fatalf("devices after 404/410 = %+v; want none", ds)
	}
}

func TestProviderFailingTwiceThenAcceptingDeliversOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	for _, pl := range platforms {
		e.p.fail(e.device(t, ids[1], pl), http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	}
	e.send(t, ids[0], conv, "hi")
	e.waitPushes(t, 3)
	e.settle(t)
	if n := len(e.all()); n != 3 {
		t.Fatalf("%d pushes; want each device once", n)
	}
}

func TestAlwaysFailingPushIsDroppedAfterTheLastAttempt(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	e.p.fail(e.device(t, ids[1], storage.APNs), 500, 500, 500, 500, 500)
	e.send(t, ids[0], conv, "hi")
	e.settle(t)
	if n := len(e.all()); n != 0 {
		t.Fatalf("%d pushes; want none", n)
	}
	if r, d := e.metrics().Retried.Load(), e.metrics().Dropped.Load(); r != 3 || d != 1 {
		t.Fatalf("retried %d, dropped %d; want 3 retries then one drop", r, d)
	}
}

func TestRecallReplacesTheSentNotification(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	e.device(t, ids[1], storage.APNs)
	m := e.send(t, ids[0], conv, "oops")
	e.waitPushes(t, 1)
	if _, err := e.chat.Delete(context.Background(), ids[0], m.ID, true); err != nil {
		t.Fatal(err)
	}
	got := e.waitPushes(t, 2)
	if got[0].Header.Get("apns-collapse-id") != got[1].Header.Get("apns-collapse-id") || got[1].Payload["recalled"] != true {
		t.Fatalf("recall push = %v %v; want the same collapse id, recalled", got[1].Header, got[1].Payload)
	}
}
