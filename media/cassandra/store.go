// Package cassandra is the distributed media.Store: the metadata of
// uploads, attachments and stories in Apache Cassandra, shared by any
// number of API processes (the bytes stay in the blob store).
//
// Where the embedded store serialises with an in-process mutex, this one
// decides with lightweight transactions, so the rules hold across
// processes:
//
//   - an upload is claimed once: UPDATE ... IF owner_id != null AND
//     claim = null, in a fixed order, undone on failure (all or none);
//   - the posting quota: each author has `limit` slots, and a post takes a
//     free or stale slot by a transaction on that slot (ReservePost);
//   - a view or a reaction is recorded once: INSERT ... IF NOT EXISTS.
//
// Stories expire by TTL: every row about a story is written with the
// story's remaining life as its TTL, so it is gone from every query 24 h
// after posting. Uploads never attached are left to the sweeper (media.Sweep),
// because their bytes must be deleted too: a TTL would drop the record and
// orphan the file. The sweeper finds them, and expired stories' videos,
// through time-bucketed queues (see schema.cql).
//
// The tables live in the chat store's keyspace, prefixed media_.
package cassandra

import (
	"context"
	_ "embed"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

var _ media.Store = (*Store)(nil)

//go:embed schema.cql
var schema string

// Config configures the store. Zero values are the documented defaults;
// only Hosts is required.
type Config struct {
	// Config is how to reach the cluster and which keyspace to use: the
	// same settings (and defaults) as storage/cassandra.Config, so one set
	// serves both.
	cql.Config
	// Shards spreads each hour of the sweeper's queues over this many
	// partitions. Default 8. Changing it strands queued entries until
	// their TTL, so pick it once.
	Shards int
	// SweepLookback is how far before the cut-off the sweeper's first scan
	// looks (later scans start where the previous one found work).
	// Default 48h: a sweeper down for longer leaves older files behind.
	SweepLookback time.Duration
}

func (c *Config) setDefaults() {
	if c.Shards <= 0 {
		c.Shards = 8
	}
	if c.SweepLookback <= 0 {
		c.SweepLookback = 48 * time.Hour
	}
}

// Store is the Cassandra media.Store. It is safe for concurrent use, and
// any number of Stores (in one process or many) may share a keyspace.
type Store struct {
	session  *gocql.Session
	serial   gocql.Consistency
	shards   int
	lookback time.Duration
	uploadQ  queue
	storyQ   queue
	mpQ      queue // multipart.go
}

// Open connects, creates the keyspace and tables when missing, and returns
// the store. An unreachable cluster is retried for cfg.StartupTimeout, then
// Open fails with an error wrapping storage.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	session, err := cql.Open(ctx, cfg.Config)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	s := &Store{session: session.Session, serial: session.Serial, shards: cfg.Shards, lookback: cfg.SweepLookback}
	s.uploadQ = queue{table: "media_uploads_by_time"}
	s.storyQ = queue{table: "media_stories_by_expiry"}
	s.mpQ = queue{table: "media_multipart_by_time"}
	if err := createTables(ctx, session.Session, session.Keyspace); err != nil {
		session.Close()
		return nil, err
	}
	return s, nil
}

// createTables runs schema.cql. Each table gets an id derived from the
// keyspace and its name, so processes creating it at the same moment agree
// on one table instead of racing two into the schema.
func createTables(ctx context.Context, session *gocql.Session, keyspace string) error {
	for _, stmt := range cql.Statements(schema) {
		name := strings.Fields(stmt)[5] // CREATE TABLE IF NOT EXISTS <name> (
		with := " WITH id = " + cql.TableID("messenger.media.cassandra", keyspace, name)
		if i := strings.LastIndex(stmt, ") WITH "); i >= 0 {
			stmt = stmt[:i+1] + with + " AND " + stmt[i+len(") WITH "):]
		} else {
			stmt += with
		}
		if err := cql.ExecSchema(ctx, session, stmt); err != nil {
			return wrap(err, "create table %s", name)
		}
	}
	return nil
}

// Close releases the session.
func (s *Store) Close() error {
	s.session.Close()
	return nil
}

// query is a read or a plain write: safe to run twice, so the driver may
// retry it.
func (s *Store) query(ctx context.Context, stmt string, args ...any) *gocql.Query {
	return s.session.Query(stmt, args...).WithContext(ctx).Idempotent(true)
}

// lwt is a lightweight transaction: never retried by the driver (a retry
// after an unknown outcome would report "not applied" for its own change);
// callers resolve unknown outcomes by reading.
func (s *Store) lwt(ctx context.Context, stmt string, args ...any) *gocql.Query {
	return s.session.Query(stmt, args...).WithContext(ctx).Idempotent(false).SerialConsistency(s.serial)
}

// exec runs idempotent writes, up to 16 at a time.
func (s *Store) exec(ctx context.Context, qs []stmt) error {
	return cql.Parallel(ctx, len(qs), func(ctx context.Context, i int) error {
		return s.query(ctx, qs[i].cql, qs[i].args...).Exec()
	})
}

// stmt is one statement with its arguments.
type stmt struct {
	cql  string
	args []any
}

// ttl is the TTL, in seconds, of a row that must live from from until
// until: rounded up, plus one second because Cassandra counts from the
// current whole second, so a row never vanishes before until (callers
// check expiry times themselves for the last second). Never zero, which
// would mean forever.
func ttl(from, until time.Time) int {
	return max(1, int(math.Ceil(until.Sub(from).Seconds()))+1)
}

// fnv32 is the 32-bit FNV-1a hash of s.
func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// wrap adds what was being done to a driver error, and marks the errors
// that mean "Cassandra cannot answer now" with storage.ErrUnavailable (see
// cql.Wrap).
func wrap(err error, format string, args ...any) error {
	return cql.Wrap(err, "media cassandra: "+format, args...)
}
