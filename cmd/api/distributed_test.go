package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
)

// fleetEnv points an API process at the test run's Cassandra (in a fresh
// keyspace) and Redis, with a shared signing key, or skips.
func fleetEnv(t *testing.T) []string {
	t.Helper()
	hosts, redis := os.Getenv("MESSENGER_CASSANDRA_HOSTS"), os.Getenv("MESSENGER_REDIS_ADDRS")
	if hosts == "" || redis == "" {
		t.Skip("set MESSENGER_CASSANDRA_HOSTS and MESSENGER_REDIS_ADDRS (make test does) to run the API as a fleet")
	}
	return []string{
		"MESSENGER_CASSANDRA_KEYSPACE=" + fmt.Sprintf("e2e_%d", rand.Int64N(1e12)),
		"MESSENGER_JWT_SECRET=" + strings.Repeat("fleet-secret-", 4),
		"MESSENGER_OPENSEARCH_URL=", "MESSENGER_S3_ENDPOINT=",
	}
}

// Two API processes share Cassandra and Redis: a subscriber on A receives
// what is sent through B; when A dies (kill -9) mid-stream, the client
// resumes on B from its last cursor and the received sequence equals the
// sent sequence exactly.
func TestFleetSubscriberSurvivesItsInstanceDying(t *testing.T) {
	env := fleetEnv(t)
	bin := buildBinary(t)
	urlA, cmdA := startBinary(t, bin, t.TempDir(), env...)
	urlB, _ := startBinary(t, bin, t.TempDir(), env...)

	alice := apitest.SignUp(t, urlA, "alice")
	bob := apitest.SignUp(t, urlB, "bob")
	alice.URL, bob.URL = urlB, urlA // alice sends through B; bob listens on A
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)

	events := bob.Subscribe(context.Background(), t, "")
	time.Sleep(300 * time.Millisecond)

	// Presence is shared by the fleet: bob subscribed on A, alice asks B.
	var who struct {
		User struct{ Presence struct{ Online bool } }
	}
	alice.Must(t, `query($u: ID!) { user(id: $u) { presence { online } } }`, map[string]any{"u": bob.UserID}, &who)
	if !who.User.Presence.Online {
		t.Fatal("bob is subscribed on instance A but instance B says he is offline")
	}

	const total = 120
	sent := make(chan int, total)
	go func() {
		defer close(sent)
		for i := 1; i <= total; i++ {
			r := alice.Do(t, `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { seq } }`,
				map[string]any{"c": conv.CreateDirectConversation.ID, "k": fmt.Sprint("m", i), "b": fmt.Sprint("message ", i)})
			if r.Code() == "RATE_LIMITED" { // a real client waits and retries with the same id
				time.Sleep(time.Second)
				i--
				continue
			}
			if len(r.Errors) > 0 {
				t.Errorf("send %d through B failed: %+v", i, r.Errors)
				return
			}
			sent <- i
			time.Sleep(5 * time.Millisecond)
		}
	}()

	var got []int
	var last string
	for len(got) < 40 {
		ev := events.Next(t)
		if ev.Typename == "MessageAdded" {
			got = append(got, ev.Message.Seq)
			last = ev.Cursor
		}
	}
	if err := cmdA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bob.URL = urlB
	resumed := bob.Subscribe(context.Background(), t, last)
	for len(got) < total {
		ev, errs := resumed.NextOrError(t, 15*time.Second)
		if errs != nil {
			t.Fatalf("after %d messages: %+v", len(got), errs)
		}
		if ev.Typename == "MessageAdded" {
			got = append(got, ev.Message.Seq)
		}
	}
	for range sent {
	}
	for i, seq := range got {
		if seq != i+1 {
			t.Fatalf("received sequence diverges at %d: got seq %d; all: %v", i, seq, got)
		}
	}
	resumed.ExpectNone(t, "MessageAdded", 500*time.Millisecond)

	// The event log's Redis commands are timed on /metrics (B appended every
	// message as one pipeline per send).
	res, err := http.Get(urlB + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `messenger_backend_call_duration_seconds_count{backend="redis",op="pipeline"}`) {
		t.Errorf("/metrics of instance B has no timings of its Redis pipelines")
	}
}
