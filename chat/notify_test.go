package chat_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/storage"
)

// recordingNotifier records the messages it hears of, failing while down.
type recordingNotifier struct {
	mu       sync.Mutex
	down     bool
	created  []string
	recalled []string
}

func (n *recordingNotifier) MessageCreated(_ context.Context, m storage.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return errors.New("push queue down")
	}
	n.created = append(n.created, m.ID)
	return nil
}

func (n *recordingNotifier) MessageRecalled(_ context.Context, m storage.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.recalled = append(n.recalled, m.ID)
	return nil
}

func (n *recordingNotifier) snapshot() (created, recalled []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.created...), append([]string(nil), n.recalled...)
}

func TestANotifierThatWasDownHearsOfTheMessageFromTheOutboxReplay(t *testing.T) {
	n := &recordingNotifier{down: true}
	d := newDomain(t, func(c *chat.Config) { c.Notifier = n; c.FanOutGrace = time.Millisecond })
	ids := d.users(t, 2)
	conv := d.group(t, ids[0], ids[1])
	m, err := d.svc.Send(context.Background(), ids[0], conv, "c1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the background confirmation fails to notify
	n.mu.Lock()
	n.down = false
	n.mu.Unlock()
	if _, err := d.svc.SweepFanOuts(context.Background()); err != nil {
		t.Fatal(err)
	}
	created, _ := n.snapshot()
	if len(created) != 1 || created[0] != m.ID {
		t.Fatalf("notifier heard of %v; want %s once, from the replay", created, m.ID)
	}
	if _, err := d.svc.SweepFanOuts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if created, _ := n.snapshot(); len(created) != 1 {
		t.Fatalf("a confirmed message was reported again: %v", created)
	}
}

func TestEditsDoNotNotifyAndRecallsDo(t *testing.T) {
	n := &recordingNotifier{}
	d := newDomain(t, func(c *chat.Config) { c.Notifier = n })
	ids := d.users(t, 2)
	conv := d.group(t, ids[0], ids[1])
	m, err := d.svc.Send(context.Background(), ids[0], conv, "c1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Edit(context.Background(), ids[0], m.ID, "hello!"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Delete(context.Background(), ids[0], m.ID, true); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		created, recalled := n.snapshot()
		if len(created) == 1 && len(recalled) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("created %v, recalled %v; want the message once each", created, recalled)
		}
	}
}
