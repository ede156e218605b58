package chat_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"messenger/realtime/redislog"
)

func TestStreamReadFromNowHasAPositionAtOnceMemory(t *testing.T) {
	freshStreamScenario(t, memPair(t))
}

func TestStreamReadFromNowHasAPositionAtOnceRedis(t *testing.T) {
	freshStreamScenario(t, redisPair(t, redislog.Config{Addrs: envAddrs(t, "MESSENGER_REDIS_ADDRS")}))
}

// startedGroup makes a group of 4 users (past the threshold of 3) on a and
// starts its stream with a first message; u[0] owns it.
func startedGroup(t *testing.T, a instance) ([]string, string) {
	t.Helper()
	u := a.users(t, 4)
	g := a.group(t, u[0], u[1], u[2], u[3])
	if _, err := a.svc.Send(context.Background(), u[0], g, "start", "starts the stream"); err != nil {
		t.Fatal(err)
	}
	return u, g
}

// freshStreamScenario: a member of a started group subscribes from now and
// gets only a direct message before leaving; the cursor of that message
// must already hold the group stream's start, so a group message sent
// while the member is away is delivered on resume (it was skipped when the
// stream had no position before its first event and resumed from "now").
func freshStreamScenario(t *testing.T, in [2]instance) {
	ctx := context.Background()
	a, b := in[0], in[1]
	u, g := startedGroup(t, a)
	s := collectSub(t, b.svc, u[1], "")
	dm, err := a.svc.CreateDirect(ctx, u[0], u[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Send(ctx, u[0], dm.ID, "dm1", "dm:hello"); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the direct message", func() bool { return len(s.dms) == 1 })
	cur := s.stop(t)
	if _, err := a.svc.Send(ctx, u[0], g, "away", "while u1 is away"); err != nil {
		t.Fatal(err)
	}
	r := collectSub(t, a.svc, u[1], cur)
	r.upTo(t, "u1 resumed", 2, 2)
}

func TestDeletingAStreamedGroupEndsItsStreamMemory(t *testing.T) {
	deletedStreamScenario(t, memPair(t))
}

func TestDeletingAStreamedGroupEndsItsStreamRedis(t *testing.T) {
	deletedStreamScenario(t, redisPair(t, redislog.Config{Addrs: envAddrs(t, "MESSENGER_REDIS_ADDRS")}))
}

// deletedStreamScenario: when the owner deletes a started group, a
// member's open subscription stops reading its stream (the cursors it
// hands out no longer name it) and the member's index drops it, so the
// next subscription does not read it either.
func deletedStreamScenario(t *testing.T, in [2]instance) {
	ctx := context.Background()
	a, b := in[0], in[1]
	u, g := startedGroup(t, a)
	s := collectSub(t, b.svc, u[1], "")
	if err := a.svc.DeleteConversation(ctx, u[0], g); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := a.store.StreamedOf(ctx, u[1])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(got, g) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("u1's index still lists the deleted group 30 s later: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	dm, err := a.svc.CreateDirect(ctx, u[0], u[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Send(ctx, u[0], dm.ID, "dm1", "dm:after the deletion"); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the direct message", func() bool { return len(s.dms) == 1 })
	s.mu.Lock()
	cur := s.cursor
	s.mu.Unlock()
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(cur, "L1."))
	if err != nil {
		t.Fatalf("cursor %q: %v", cur, err)
	}
	if strings.Contains(string(body), g) {
		t.Fatalf("the subscription still reads the deleted group's stream: cursor %s", body)
	}
}
