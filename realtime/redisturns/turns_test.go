package redisturns_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"messenger/realtime"
	"messenger/realtime/realtimetest"
	"messenger/realtime/redisturns"
	"messenger/redistest"
)

// Two instances share the watermarks of one test's key prefix on the test
// run's real Redis, and on its Redis Cluster.
func TestContract(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		realtimetest.RunTurns(t, pair(func(t *testing.T) redis.UniversalClient { return redistest.Client(t) }))
	})
	t.Run("cluster", func(t *testing.T) {
		addrs := os.Getenv("MESSENGER_REDIS_CLUSTER_ADDRS")
		if addrs == "" {
			t.Skip("MESSENGER_REDIS_CLUSTER_ADDRS is not set")
		}
		realtimetest.RunTurns(t, pair(func(t *testing.T) redis.UniversalClient {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
			t.Cleanup(func() { _ = c.Close() })
			return c
		}))
	})
}

// pair opens two Turns, each with its own client, on one key prefix.
func pair(client func(t *testing.T) redis.UniversalClient) realtimetest.TurnsFactory {
	return func(t *testing.T) (realtime.Turns, realtime.Turns) {
		prefix := "test-turns-" + uuid.NewString() + ":"
		open := func() realtime.Turns {
			turns, err := redisturns.New(redisturns.Config{Client: client(t), KeyPrefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = turns.Close() })
			return turns
		}
		return open(), open()
	}
}
