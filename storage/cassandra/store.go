// Package cassandra is the distributed storage backend: every table lives in
// one Apache Cassandra keyspace, and any number of API processes share it.
//
// The tables are shaped for the queries the API makes, not for normal form
// (see migrations/001_init.cql for each table and the query it serves):
// messages are partitioned by (conversation, seq/bucketSize) so a history
// page is one partition read, and each conversation has one small "sequencer"
// partition whose Paxos transactions hand out seqs (see AppendMessage).
//
// Two Cassandra habits run through the package:
//
//   - Monotonic values (a conversation's LastSeq and LastActivityAt, members'
//     read and delivered cursors) are "max registers": each write carries the
//     value itself as its write timestamp (USING TIMESTAMP), so whichever
//     write has the larger value wins however the writes race, with no read
//     and no lightweight transaction.
//   - Writes that may be replayed after a crash (rolling a half-done send or
//     conversation forward) reuse the original write timestamp, so a replay
//     writes the very same cells and can never undo a later change.
//
// Statements that can safely run twice are marked idempotent, so the driver
// retries them (with backoff) on another connection; lightweight transactions
// are not, and their callers resolve an unknown outcome themselves.
package cassandra

import (
	"context"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

var _ storage.Store = (*Store)(nil)

// Config configures the Cassandra store: how to reach the cluster and
// which keyspace to use (see cql.Config for each setting and its default;
// only Hosts is required). The media store takes the same settings.
type Config = cql.Config

// TLSConfig configures TLS for client connections (see cql.TLSConfig).
type TLSConfig = cql.TLSConfig

// Store is the Cassandra-backed storage.Store. It is safe for concurrent use,
// and several Stores (in one process or many) may share one keyspace.
type Store struct {
	session  *gocql.Session
	keyspace string
	serial   gocql.Consistency
	// sends queue AppendMessage calls per conversation inside this
	// process, so each conversation has one batch in flight here (group
	// commit, see AppendMessage): the Paxos transactions of its sequencer
	// compete with other processes only, not with our own goroutines.
	sends  sendQueues
	heads  headCache
	outbox outboxState
	// afterClaim, when set (tests only), runs between a batch's Paxos claim
	// and its writes.
	afterClaim func(conversationID string, first, last int64)
	cold       coldTier
	// writes counts the mutations this Store sent for sends and fan-out
	// confirmations (Paxos transactions included), so benchmarks can
	// report writes per message, which does not depend on load.
	writes atomic.Int64
}

// Open connects to Cassandra, creates the keyspace when missing and applies
// the embedded migrations (see migrate). A cluster that cannot be reached is
// retried with backoff for at most cfg.StartupTimeout (or until ctx ends),
// then Open returns an error wrapping storage.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	session, err := cql.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{session: session.Session, keyspace: session.Keyspace, serial: session.Serial}
	if err := s.migrate(ctx); err != nil {
		session.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the session's connections.
func (s *Store) Close() error {
	s.session.Close()
	return nil
}

// query is a read or a plain write: safe to run twice, so the driver may
// retry it.
func (s *Store) query(ctx context.Context, stmt string, args ...any) *gocql.Query {
	return s.session.Query(stmt, args...).WithContext(ctx).Idempotent(true)
}

// batch builds a batch of statements; idempotent ones may be retried by the
// driver.
func (s *Store) batch(ctx context.Context, typ gocql.BatchType, idempotent bool, stmts ...stmt) *gocql.Batch {
	b := s.session.Batch(typ).WithContext(ctx).SerialConsistency(s.serial)
	for _, st := range stmts {
		b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: st.cql, Args: st.args, Idempotent: idempotent})
	}
	return b
}

// stmt is one statement of a batch.
type stmt struct {
	cql  string
	args []any
}

// lwt is a lightweight transaction: never retried by the driver, because a
// retry after an unknown outcome would report "not applied" for a change it
// made itself. Callers that need the exact outcome resolve it (see
// AppendMessage).
func (s *Store) lwt(ctx context.Context, stmt string, args ...any) *gocql.Query {
	return s.session.Query(stmt, args...).WithContext(ctx).Idempotent(false).SerialConsistency(s.serial)
}

// optTime converts a nullable timestamp read from Cassandra.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
