package push_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/push"
	"messenger/redistest"
)

// queueFactory makes queues sharing one backing store: each call is
// another consumer (another instance, for Redis; a reopen after a crash,
// for Pebble, which one process owns).
type queueFactory func(t *testing.T, lease time.Duration) (mk func() push.Queue)

func pebbleQueues(t *testing.T, lease time.Duration) func() push.Queue {
	dir := t.TempDir()
	var last *push.PebbleQueue
	return func() push.Queue {
		if last != nil {
			_ = last.Close() // the previous instance "crashed": its leases are gone
		}
		q, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: dir, Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		last = q
		t.Cleanup(func() { _ = q.Close() })
		return q
	}
}

func redisQueues(t *testing.T, lease time.Duration) func() push.Queue {
	rdb := redistest.Client(t)
	prefix := "pushtest-" + uuid.NewString()
	return func() push.Queue {
		q, err := push.NewRedisQueue(context.Background(), push.RedisQueueConfig{Client: rdb, Prefix: prefix, Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
}

func TestQueueContract(t *testing.T) {
	for name, f := range map[string]queueFactory{"pebble": pebbleQueues, "redis": redisQueues} {
		t.Run(name, func(t *testing.T) {
			t.Run("EachJobGoesToOneConsumerUntilAcked", func(t *testing.T) { testQueueOnce(t, f) })
			t.Run("RetriesWaitUntilDue", func(t *testing.T) { testQueueRetry(t, f) })
			t.Run("AJobHeldByADeadConsumerIsRedelivered", func(t *testing.T) { testQueueTakeover(t, f) })
		})
	}
}

func job(seq int64) push.Job {
	return push.Job{Kind: push.KindMessage, ConversationID: "c", Seq: seq, SentAt: time.Now().UTC()}
}

func testQueueOnce(t *testing.T, f queueFactory) {
	ctx := context.Background()
	mk := f(t, time.Minute)
	q := mk()
	if err := q.Enqueue(ctx, job(1), job(2), job(3)); err != nil {
		t.Fatal(err)
	}
	got, err := q.Claim(ctx, 10, time.Second)
	if err != nil || len(got) != 3 || got[0].Job.Seq != 1 || got[2].Job.Seq != 3 {
		t.Fatalf("Claim = %+v, %v; want jobs 1..3 in order", got, err)
	}
	if again, _ := q.Claim(ctx, 10, 100*time.Millisecond); len(again) != 0 {
		t.Fatalf("leased jobs were claimed again: %+v", again)
	}
	if d, _ := q.Depth(ctx); d != 3 {
		t.Fatalf("Depth = %d; want 3 (leased count)", d)
	}
	for _, l := range got {
		if err := q.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := q.Depth(ctx); d != 0 {
		t.Fatalf("Depth after acks = %d", d)
	}
	if ok, _ := q.Begin(ctx, "m/d"); !ok {
		t.Fatal("first Begin refused")
	}
	if ok, _ := q.Begin(ctx, "m/d"); ok {
		t.Fatal("second Begin while the first is sending was granted")
	}
	if err := q.Finish(ctx, "m/d", false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := q.Begin(ctx, "m/d"); !ok {
		t.Fatal("Begin after a failed send refused")
	}
	if ok, _ := q.WasSent(ctx, "m/d"); ok {
		t.Fatal("WasSent before Finish")
	}
	if err := q.Finish(ctx, "m/d", true); err != nil {
		t.Fatal(err)
	}
	if ok, _ := q.WasSent(ctx, "m/d"); !ok {
		t.Fatal("WasSent false after Finish(sent)")
	}
	if ok, _ := q.Begin(ctx, "m/d"); ok {
		t.Fatal("Begin of a sent notification granted")
	}
}

func testQueueRetry(t *testing.T, f queueFactory) {
	ctx := context.Background()
	q := f(t, time.Minute)()
	_ = q.Enqueue(ctx, job(1))
	got, _ := q.Claim(ctx, 1, time.Second)
	if len(got) != 1 {
		t.Fatalf("Claim = %+v", got)
	}
	next := got[0].Job
	next.Attempt++
	if err := q.Retry(ctx, got[0], next, time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if early, _ := q.Claim(ctx, 1, 50*time.Millisecond); len(early) != 0 {
		t.Fatalf("retry claimed before due: %+v", early)
	}
	if d, _ := q.Depth(ctx); d != 1 {
		t.Fatalf("Depth with a delayed retry = %d; want 1", d)
	}
	time.Sleep(350 * time.Millisecond)
	late, _ := q.Claim(ctx, 1, time.Second)
	if len(late) != 1 || late[0].Job.Attempt != 1 {
		t.Fatalf("due retry = %+v; want attempt 1", late)
	}
}

func testQueueTakeover(t *testing.T, f queueFactory) {
	ctx := context.Background()
	mk := f(t, 200*time.Millisecond)
	a := mk()
	_ = a.Enqueue(ctx, job(7))
	if got, _ := a.Claim(ctx, 1, time.Second); len(got) != 1 {
		t.Fatalf("first claim = %+v", got)
	}
	b := mk() // a dies holding the job
	time.Sleep(250 * time.Millisecond)
	got, err := b.Claim(ctx, 1, time.Second)
	if err != nil || len(got) != 1 || got[0].Job.Seq != 7 {
		t.Fatalf("takeover claim = %+v, %v; want job 7", got, err)
	}
	_ = b.Ack(ctx, got[0])
	if d, _ := b.Depth(ctx); d != 0 {
		t.Fatalf("Depth = %d", d)
	}
}
