// Package cqltest points integration tests at the Cassandra that a test run
// shares (MESSENGER_CASSANDRA_HOSTS), each test in a keyspace of its own.
package cqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
)

// Config points at the Cassandra in MESSENGER_CASSANDRA_HOSTS with a fresh
// keyspace, prefix followed by random hex, or skips t when there is none.
// It allows two minutes for a node that is still starting.
func Config(t testing.TB, prefix string) cql.Config {
	t.Helper()
	hosts := os.Getenv("MESSENGER_CASSANDRA_HOSTS")
	if hosts == "" {
		t.Skip("MESSENGER_CASSANDRA_HOSTS is not set: no Cassandra to test against (start one with: eval \"$(scripts/services.sh up cassandra)\")")
	}
	b := make([]byte, 6)
	rand.Read(b)
	return cql.Config{Hosts: strings.Split(hosts, ","), Keyspace: prefix + hex.EncodeToString(b), StartupTimeout: 2 * time.Minute}
}

// DropKeyspace drops keyspace through session, waiting at most a minute; a
// failure is logged, not fatal, since the test itself is over.
func DropKeyspace(t testing.TB, session *gocql.Session, keyspace string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := session.Query("DROP KEYSPACE IF EXISTS " + keyspace).WithContext(ctx).Exec(); err != nil {
		t.Logf("drop keyspace %s: %v", keyspace, err)
	}
}
