package chat_test

import (
	"context"
	"testing"
	"time"

	"messenger/chat"
	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/storage/cassandra"
)

// onCassandra opens one Cassandra store (a fresh keyspace, dropped at the
// end) and returns a tweak that puts it under a rules environment; it
// skips without MESSENGER_CASSANDRA_HOSTS.
func onCassandra(t *testing.T) func(*chat.Config) {
	t.Helper()
	cfg := cqltest.Config(t, "test_chat_")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := cassandra.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("cassandra: %v", err)
	}
	t.Cleanup(func() {
		_ = st.Close()
		if s, err := cql.Open(context.Background(), cfg); err == nil {
			cqltest.DropKeyspace(t, s.Session, cfg.Keyspace)
			s.Close()
		}
	})
	return func(c *chat.Config) { c.Store = st }
}

// The block matrix and the privacy table again, on Cassandra.

func TestBlockPermissionMatrixOnCassandra(t *testing.T) {
	blockPermissionMatrix(t, onCassandra(t))
}

func TestEveryPrivacySettingIsEnforcedOnCassandra(t *testing.T) {
	everyPrivacySetting(t, onCassandra(t))
}
