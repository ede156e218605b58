package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	"messenger/cql/cqltest"
	"messenger/redistest"
	"messenger/revocation"
	"messenger/revocation/redisrevocation"
	"messenger/storage/cassandra"
)

// cassandraStore opens a store on a fresh keyspace of the test run's
// Cassandra (or skips), dropped when t ends.
func cassandraStore(t *testing.T) *cassandra.Store {
	t.Helper()
	cfg := cqltest.Config(t, "test_sessions_")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A busy shared node may time out a keyspace creation: try again.
	var s *cassandra.Store
	var err error
	for try := 0; try < 3; try++ {
		if s, err = cassandra.Open(ctx, cfg); err == nil {
			break
		}
		t.Logf("cassandra (try %d): %v", try+1, err)
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		t.Fatalf("cassandra: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		cluster := gocql.NewCluster(cfg.Hosts...)
		if session, err := cluster.CreateSession(); err == nil {
			cqltest.DropKeyspace(t, session, cfg.Keyspace)
			session.Close()
		}
	})
	return s
}

// redisBus is one instance's revocation bus on the test run's Redis.
func redisBus(t *testing.T, channel string) revocation.Bus {
	t.Helper()
	b, err := redisrevocation.New(context.Background(), redisrevocation.Config{Addrs: strings.Split(redistest.Addrs(t), ","), Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestRefreshRotationAndReuseOnCassandra(t *testing.T) {
	refreshRotatesAndReuseEndsTheSession(t, newSessionEnv(t, cassandraStore(t), nil))
}

// Two instances on Cassandra, hearing of ended sessions through Redis.
func TestSessionEndsReachEveryInstanceOnCassandraAndRedis(t *testing.T) {
	redistest.Addrs(t)
	store := cassandraStore(t)
	channel := "test:sessions:" + uuid.NewString()
	sessionEndsReachEveryInstance(t, newSessionEnv(t, store, redisBus(t, channel)), newSessionEnv(t, store, redisBus(t, channel)))
}
