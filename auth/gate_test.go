package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHashGateRefusesBeyondItsBoundAfterItsWait(t *testing.T) {
	g := NewHashGate(HashGateConfig{Max: 1, Wait: 10 * time.Millisecond})
	leave, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second hash with a bound of 1: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Enter(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash of a cancelled request: %v, want context.Canceled", err)
	}
	leave()
	leave2, err := g.Enter(context.Background())
	if err != nil {
		t.Fatalf("slot not given back: %v", err)
	}
	leave2()
}

func TestHashGateLetsAWaitingHashInWhenASlotFrees(t *testing.T) {
	g := NewHashGate(HashGateConfig{Max: 1, Wait: time.Minute})
	leave, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan error)
	go func() {
		l, err := g.Enter(context.Background())
		if err == nil {
			l()
		}
		entered <- err
	}()
	leave()
	if err := <-entered; err != nil {
		t.Fatalf("queued hash: %v", err)
	}
}

func TestHashGateDefaultsToOneSlotPerCore(t *testing.T) {
	if g := NewHashGate(HashGateConfig{}); g.Max() < 1 || g.Wait() <= 0 {
		t.Fatalf("defaults: max %d, wait %v", g.Max(), g.Wait())
	}
}

func TestHashGateHandsMemoryBackOnceIdle(t *testing.T) {
	g := NewHashGate(HashGateConfig{Max: 2, ReturnAfter: time.Millisecond})
	released := make(chan struct{}, 10)
	g.mu.Lock()
	g.release = func() { released <- struct{}{} }
	g.mu.Unlock()
	a, _ := g.Enter(context.Background())
	b, _ := g.Enter(context.Background())
	a()
	a() // a second leave gives back nothing more
	select {
	case <-released:
		t.Fatal("memory handed back while a hash was still running")
	case <-time.After(20 * time.Millisecond):
	}
	b()
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("memory not handed back after the gate went idle")
	}
	if c, err := g.Enter(context.Background()); err != nil || len(g.slots) != 1 {
		t.Fatalf("slots after the double leave: %d in use (%v)", len(g.slots), err)
	} else {
		c()
	}
}
