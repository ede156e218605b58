package presence_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/presence"
	"messenger/presence/mempresence"
	"messenger/presence/presencetest"
	"messenger/presence/redispresence"
	"messenger/redistest"
)

func TestMemoryContract(t *testing.T) {
	presencetest.Run(t, func(t *testing.T) presence.Tracker {
		return shared(t, func() presence.Tracker { return mempresence.New() })
	})
}

// shared makes the factory return one tracker per test.
func shared(t *testing.T, mk func() presence.Tracker) presence.Tracker {
	mu.Lock()
	defer mu.Unlock()
	if tr, ok := perTest[t.Name()]; ok {
		return tr
	}
	tr := mk()
	perTest[t.Name()] = tr
	t.Cleanup(func() { tr.Close() })
	return tr
}

var (
	mu      sync.Mutex
	perTest = map[string]presence.Tracker{}
)

func redisTracker(t *testing.T, addrs string, cluster bool, prefix string, ttl time.Duration) presence.Tracker {
	tr, err := redispresence.New(context.Background(), redispresence.Config{
		Addrs: strings.Split(addrs, ","), Cluster: cluster, KeyPrefix: prefix, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestRedisContract(t *testing.T) {
	for name, cluster := range map[string]bool{"MESSENGER_REDIS_ADDRS": false, "MESSENGER_REDIS_CLUSTER_ADDRS": true} {
		addrs := os.Getenv(name)
		t.Run(name, func(t *testing.T) {
			if addrs == "" {
				t.Skipf("set %s (make test does) to run against a real Redis", name)
			}
			prefix := fmt.Sprintf("ptest%d:", rand.Int64())
			// Each call is a separate tracker, as two API instances would have.
			presencetest.Run(t, func(t *testing.T) presence.Tracker { return redisTracker(t, addrs, cluster, prefix, time.Minute) })
		})
	}
}

// An instance that dies stops refreshing: its users go offline within the TTL.
func TestRedisCrashedInstanceLapses(t *testing.T) {
	addrs := redistest.Addrs(t)
	prefix := fmt.Sprintf("ptest%d:", rand.Int64())
	crashed := redisTracker(t, addrs, false, prefix, 600*time.Millisecond)
	other := redisTracker(t, addrs, false, prefix, 600*time.Millisecond)
	u := "user-" + fmt.Sprint(rand.Int64())
	if _, _, err := crashed.Connect(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	crashed.Close() // no Disconnect, no more refreshes
	deadline := time.Now().Add(3 * time.Second)
	for {
		online, _, err := other.State(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if !online {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a crashed instance's subscription still counts after 3 TTLs")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A live instance keeps its users online past the TTL by refreshing.
func TestRedisLiveInstanceRefreshes(t *testing.T) {
	addrs := redistest.Addrs(t)
	tr := redisTracker(t, addrs, false, fmt.Sprintf("ptest%d:", rand.Int64()), 600*time.Millisecond)
	u := "user-" + fmt.Sprint(rand.Int64())
	if _, _, err := tr.Connect(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if online, _, _ := tr.State(context.Background(), u); !online {
		t.Fatal("a live subscription lapsed although its instance refreshes it")
	}
}
