package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/push/pushtest"
)

// TestKillWithQueuedPushesDeliversEachOnceAfterRestart: pushes waiting in
// the queue (their provider answered 503, so they wait for a retry) when
// the API is killed with SIGKILL are each delivered exactly once after it
// restarts on the same data directory.
func TestKillWithQueuedPushesDeliversEachOnceAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	fcm := pushtest.StartFCM(t)
	creds := filepath.Join(t.TempDir(), "fcm.json")
	if err := os.WriteFile(creds, fcm.Credentials(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"MESSENGER_FCM_CREDENTIALS_FILE=" + creds, "MESSENGER_FCM_URL=" + fcm.URL(),
		"MESSENGER_FANOUT_GRACE=1s", "MESSENGER_RATE_LIMITS=false"}, embedded...)
	bin := buildBinary(t)
	data := t.TempDir()
	url, cmd := startBinary(t, bin, data, env...)
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	var g struct{ CreateGroup struct{ ID string } }
	alice.Must(t, `mutation($b: ID!) { createGroup(input: {title: "crash", memberIds: [$b]}) { id } }`, map[string]any{"b": bob.UserID}, &g)
	bob.Must(t, `mutation { registerDevice(input: {platform: FCM, token: "bob-phone"}) { id } }`, nil, nil)
	fcm.Fail("bob-phone", 503, 503, 503) // the first attempts fail: the pushes wait for retries
	const n = 3
	for i := range n {
		if err := send(alice, g.CreateGroup.ID, "k"+string(rune('a'+i)), "hello"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if got := len(fcm.Pushes()); got == n {
		t.Log("every push went out before the kill: the restart has nothing to do")
	}

	startBinary(t, bin, data, env...)
	fcm.Wait(n, 30*time.Second)
	time.Sleep(2 * time.Second) // a duplicate would arrive now
	seen := map[string]int{}
	for _, p := range fcm.Pushes() {
		seen[p.Payload["data"].(map[string]any)["messageId"].(string)]++
	}
	if len(seen) != n {
		t.Fatalf("pushes for %d messages after the restart, want %d: %v", len(seen), n, seen)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %s pushed %d times", id, c)
		}
	}
}
