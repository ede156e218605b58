package push_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"messenger/push"
	"messenger/storage"
)

// depth is the number of jobs in e's queue.
func (e *env) depth(t *testing.T) int64 {
	t.Helper()
	d, err := e.queue.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAMessageToRecipientsWithoutDevicesQueuesNothing(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true}) // nothing claims: the queue's depth is what was written
	ids := e.users(t, "alice", "bob")
	alice, bob := ids[0], ids[1]
	conv := e.group(t, "Pair", alice, storage.Member{UserID: bob})
	e.device(t, alice, storage.FCM) // the sender's own device does not count
	m := e.send(t, alice, conv, "hi")
	if err := e.push.MessageCreated(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if d := e.depth(t); d != 0 {
		t.Fatalf("queue depth %d after a message to a recipient with no device; want 0", d)
	}
	if n := e.m.NoDevice.Load(); n < 1 {
		t.Fatalf("NoDevice = %d; want at least 1", n)
	}

	// bob registers a device through another instance (same store, its own
	// queue and no shared memory): this instance must see it at once.
	q2, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q2.Close() })
	other, err := push.New(push.Config{Store: e.store, Queue: q2})
	if err != nil {
		t.Fatal(err)
	}
	d := e.p.device(storage.APNs, bob, "other-instance")
	if _, err := other.RegisterDevice(context.Background(), bob, push.DeviceInput{Platform: storage.APNs, Token: d.Token}); err != nil {
		t.Fatal(err)
	}
	m2 := e.send(t, alice, conv, "again")
	if err := e.push.MessageCreated(context.Background(), m2); err != nil {
		t.Fatal(err)
	}
	if d := e.depth(t); d < 1 {
		t.Fatal("no job queued for a recipient whose device was registered on another instance")
	}
}

func TestAGroupBeyondTheCheckedMembersIsAlwaysQueued(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	names := make([]string, 20) // more than the members checked for devices
	for i := range names {
		names[i] = fmt.Sprint("u", i)
	}
	ids := e.users(t, names...)
	var rest []storage.Member
	for _, id := range ids[1:] {
		rest = append(rest, storage.Member{UserID: id})
	}
	conv := e.group(t, "Big", ids[0], rest...)
	m := e.send(t, ids[0], conv, "hello all")
	if err := e.push.MessageCreated(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if d := e.depth(t); d < 1 {
		t.Fatal("a large group's message queued no job; its expansion decides")
	}
}

func TestMemberIDsFromTheFanOutDecideWithoutReadingMembers(t *testing.T) {
	e := newEnv(t, envOptions{noStart: true})
	ids := e.users(t, "alice", "bob")
	alice, bob := ids[0], ids[1]
	conv := e.group(t, "Pair", alice, storage.Member{UserID: bob})
	m := e.send(t, alice, conv, "hi")
	// The send's own notification (in the background) finds no device.
	deadline := time.Now().Add(20 * time.Second)
	for e.m.NoDevice.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the send's notification never decided")
		}
		time.Sleep(5 * time.Millisecond)
	}
	settled := e.depth(t)
	if err := e.push.MessageCreatedFor(context.Background(), m, []string{alice, bob}); err != nil {
		t.Fatal(err)
	}
	if d := e.depth(t); d != settled {
		t.Fatalf("queue depth %d → %d for recipients without devices; want no job", settled, d)
	}
	e.device(t, bob, storage.FCM)
	if err := e.push.MessageCreatedFor(context.Background(), m, []string{alice, bob}); err != nil {
		t.Fatal(err)
	}
	if d := e.depth(t); d != settled+1 {
		t.Fatalf("queue depth %d → %d once bob has a device; want one job", settled, d)
	}
	if err := e.push.MessageCreatedFor(context.Background(), m, nil); err != nil { // unknown: reads members
		t.Fatal(err)
	}
	if d := e.depth(t); d != settled+2 {
		t.Fatalf("queue depth %d → %d without member ids; want one more job", settled, d)
	}
}
