package push_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/push"
	"messenger/redistest"
	"messenger/storage"
)

func TestQueuedPushesSurviveACrashAndAreEachDeliveredOnce(t *testing.T) {
	dir := t.TempDir()
	q1, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The first instance records the work and dies before its workers
	// run (its queue is never closed cleanly: only the file lock goes).
	a := newEnv(t, envOptions{queue: q1, noStart: true})
	ids := a.users(t, "alice", "bob")
	conv := a.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	for _, pl := range platforms {
		a.device(t, ids[1], pl)
	}
	for i := range 5 {
		a.send(t, ids[0], conv, fmt.Sprint("m", i))
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if d, _ := q1.Depth(context.Background()); d == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the five messages never reached the push queue")
		}
	}
	a.chat.Close()
	_ = q1.Close()

	q2, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := newEnv(t, envOptions{queue: q2, store: a.store, p: a.p})
	b.waitPushes(t, 15)
	b.settle(t)
	assertOnceEach(t, b, 15)
}

// assertOnceEach checks that n pushes arrived, no (message, device) twice.
func assertOnceEach(t *testing.T, e *env, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, pl := range platforms {
		for _, p := range e.p.pushes(pl) {
			id := ""
			switch pl {
			case storage.APNs:
				id = p.Payload["messageId"].(string)
			case storage.FCM:
				id = p.Payload["data"].(map[string]any)["messageId"].(string)
			default:
				id = p.Payload["messageId"].(string)
			}
			seen[string(pl)+" "+p.Device+" "+id]++
		}
	}
	total := 0
	for k, c := range seen {
		total += c
		if c != 1 {
			t.Errorf("%s pushed %d times", k, c)
		}
	}
	if total != n {
		t.Fatalf("%d pushes; want %d", total, n)
	}
}

func TestTwoInstancesOnRedisSendNoDuplicates(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := "pushtest-" + uuid.NewString()
	queue := func(name string) push.Queue {
		q, err := push.NewRedisQueue(context.Background(), push.RedisQueueConfig{Client: rdb, Prefix: prefix, Consumer: name})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	a := newEnv(t, envOptions{queue: queue("a")})
	b := newEnv(t, envOptions{queue: queue("b"), store: a.store, p: a.p})
	ids := a.users(t, "alice", "bob", "carol")
	conv := a.group(t, "G", ids[0], storage.Member{UserID: ids[1]}, storage.Member{UserID: ids[2]})
	for _, pl := range platforms {
		a.device(t, ids[1], pl)
		a.device(t, ids[2], pl)
	}
	// Sends go through a (two chat instances would need shared fan-out
	// turns); both push instances consume the one stream.
	for i := range 20 {
		a.send(t, ids[0], conv, fmt.Sprint("m", i))
	}
	a.waitPushes(t, 120)
	a.settle(t)
	assertOnceEach(t, a, 120)
	if a.metrics().Sent.Load() == 0 || b.metrics().Sent.Load() == 0 {
		t.Logf("sent by a: %d, by b: %d (one instance did all the work)", a.metrics().Sent.Load(), b.metrics().Sent.Load())
	}
}

func TestAMessageReportedThriceIsPushedOncePerDevice(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	ids := e.users(t, "alice", "bob")
	conv := e.group(t, "G", ids[0], storage.Member{UserID: ids[1]})
	for _, pl := range platforms {
		e.device(t, ids[1], pl)
	}
	m := e.send(t, ids[0], conv, "once")
	for range 2 { // an outbox replay reports a message again
		if err := e.push.MessageCreated(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	e.push.Start()
	t.Cleanup(e.push.Close)
	e.waitPushes(t, 3)
	e.settle(t)
	assertOnceEach(t, e, 3)
}
