package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
)

// TestOutageRedisDownThenCrashLosesNoMessage: while Redis is down, sends
// through instance A still succeed (they are durable in Cassandra); A then
// dies (kill -9) without ever fanning them out. When Redis is back, the
// outbox sweeper of another instance replays them, and a client resuming
// from its last cursor receives every acknowledged message once, in order,
// and the edit made during the outage.
// It stops the shared Redis of scripts/services.sh, so it only runs with
// MESSENGER_TEST_OUTAGE=1.
func TestOutageRedisDownThenCrashLosesNoMessage(t *testing.T) {
	if os.Getenv("MESSENGER_TEST_OUTAGE") != "1" {
		t.Skip("stops the shared Redis: set MESSENGER_TEST_OUTAGE=1 to run")
	}
	env := append(fleetEnv(t), "MESSENGER_FANOUT_GRACE=1s", "MESSENGER_FANOUT_SWEEP=200ms")
	services, err := filepath.Abs(filepath.Join("..", "..", "scripts", "services.sh"))
	if err != nil {
		t.Fatal(err)
	}
	redisUp := true
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(services, args...).CombinedOutput(); err != nil {
			t.Fatalf("services.sh %v: %v\n%s", args, err, out)
		}
		redisUp = args[0] == "start"
	}
	t.Cleanup(func() {
		if !redisUp {
			_ = exec.Command(services, "start", "redis").Run()
		}
	})

	bin := buildBinary(t)
	urlA, cmdA := startBinary(t, bin, t.TempDir(), env...)
	alice := apitest.SignUp(t, urlA, "alice")
	bob := apitest.SignUp(t, urlA, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	messageIDs := map[int]string{}
	send := func(i int) {
		t.Helper()
		var out struct{ SendMessage struct{ ID string } }
		alice.Must(t, `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { id } }`,
			map[string]any{"c": conv.CreateDirectConversation.ID, "k": fmt.Sprint("m", i), "b": fmt.Sprint("message ", i)}, &out)
		messageIDs[i] = out.SendMessage.ID
	}

	events := bob.Subscribe(context.Background(), t, "")
	time.Sleep(300 * time.Millisecond)
	var last string
	for i := 1; i <= 3; i++ {
		send(i)
		ev := events.NextOfType(t, "MessageAdded")
		if ev.Message.Seq != i {
			t.Fatalf("live event %d has seq %d", i, ev.Message.Seq)
		}
		last = ev.Cursor
	}

	run("stop", "redis")
	for i := 4; i <= 8; i++ {
		send(i) // acknowledged: durable, though no event log is reachable
	}
	// Not only messages: an edit made now is deferred to the outbox too.
	alice.Must(t, `mutation($m: ID!) { editMessage(messageId: $m, body: "edited while Redis was down") { id } }`,
		map[string]any{"m": messageIDs[2]}, nil)
	// The instance that took them dies before Redis is back: only the
	// outbox in Cassandra knows they were never fanned out.
	if err := cmdA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = cmdA.Process.Wait()
	run("start", "redis")

	urlB, _ := startBinary(t, bin, t.TempDir(), env...)
	bob.URL = urlB
	resumed := bob.Subscribe(context.Background(), t, last)
	var got []string
	for len(got) < 6 {
		ev, errs := resumed.NextOrError(t, 20*time.Second)
		if errs != nil {
			t.Fatalf("after %v: %+v", got, errs)
		}
		switch ev.Typename {
		case "MessageAdded":
			got = append(got, fmt.Sprint("added ", ev.Message.Seq))
		case "MessageUpdated":
			got = append(got, fmt.Sprintf("updated %d %q", ev.Message.Seq, ev.Message.Body))
		}
	}
	want := `[added 4 added 5 added 6 added 7 added 8 updated 2 "edited while Redis was down"]`
	if fmt.Sprint(got) != want {
		t.Fatalf("resumed subscriber got %v\nwant %s", got, want)
	}
	// Further sweeps (every 200 ms) must not replay them again.
	for _, ev := range resumed.Collect(t, 2*time.Second) {
		if ev.Typename == "MessageAdded" || ev.Typename == "MessageUpdated" {
			t.Fatalf("replayed twice: %s seq %d", ev.Typename, ev.Message.Seq)
		}
	}
}
