package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/storage/cassandra"
)

// cassandraKeyspace makes a fresh keyspace with the chat tables (dropped
// when t ends), or skips t without a Cassandra.
func cassandraKeyspace(t *testing.T) string {
	t.Helper()
	cfg := cqltest.Config(t, "test_life_")
	cfg.Timeout = 20 * time.Second // a shared, busy test Cassandra
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := cassandra.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("cassandra: %v", err)
	}
	s.Close()
	t.Cleanup(func() {
		sess, err := cql.Open(context.Background(), cfg)
		if err != nil {
			return
		}
		defer sess.Close()
		cqltest.DropKeyspace(t, sess.Session, cfg.Keyspace)
	})
	return cfg.Keyspace
}

func cassandraEnv(t *testing.T) *env {
	t.Helper()
	store, err := openChildStore("cassandra:" + cassandraKeyspace(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newEnvOn(t, store, nil)
}

func TestDeletionOnCassandra(t *testing.T) { testDeletion(t, cassandraEnv(t)) }

func TestExportOnCassandra(t *testing.T) { testExport(t, cassandraEnv(t)) }

func TestDeletionSurvivesKill9MidJobOnCassandra(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	testKill9(t, "cassandra:"+cassandraKeyspace(t))
}
