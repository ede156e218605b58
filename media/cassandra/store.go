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
	"crypto/sha1"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/media"
	"messenger/storage"
)

var _ media.Store = (*Store)(nil)

//go:embed schema.cql
var schema string

// Config configures the store. Zero values are the documented defaults;
// only Hosts is required. The connection settings mean what they mean in
// storage/cassandra.Config, so one set of settings serves both.
type Config struct {
	// Hosts are the contact points as "host:port". Required.
	Hosts []string
	// Keyspace holds the tables (created when missing). Default "messenger".
	Keyspace string
	// Consistency of reads and writes by CQL name. Default "LOCAL_QUORUM".
	Consistency string
	// SerialConsistency of lightweight transactions: "SERIAL" (default)
	// or "LOCAL_SERIAL".
	SerialConsistency string
	// ReplicationFactor of SimpleStrategy when the keyspace is created and
	// DataCenters is empty. Default 1.
	ReplicationFactor int
	// DataCenters creates the keyspace with NetworkTopologyStrategy.
	DataCenters map[string]int
	// LocalDC, when set, prefers that data centre's replicas.
	LocalDC string
	// Username and Password authenticate when Username is set.
	Username string
	Password string
	// TLS, when set, encrypts client connections.
	TLS *tls.Config
	// ConnectTimeout bounds setting up one connection. Default 5s.
	ConnectTimeout time.Duration
	// Timeout bounds one request. Default 6s.
	Timeout time.Duration
	// StartupTimeout bounds how long Open retries an unreachable cluster.
	// Default 30s.
	StartupTimeout time.Duration
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
	if c.Keyspace == "" {
		c.Keyspace = "messenger"
	}
	if c.Consistency == "" {
		c.Consistency = "LOCAL_QUORUM"
	}
	if c.SerialConsistency == "" {
		c.SerialConsistency = "SERIAL"
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 6 * time.Second
	}
	if c.StartupTimeout == 0 {
		c.StartupTimeout = 30 * time.Second
	}
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
}

// Open connects, creates the keyspace and tables when missing, and returns
// the store. An unreachable cluster is retried for cfg.StartupTimeout, then
// Open fails with an error wrapping storage.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("media cassandra: Config.Hosts is required")
	}
	if !validName(cfg.Keyspace) {
		return nil, fmt.Errorf("media cassandra: keyspace %q: use letters, digits and _ only", cfg.Keyspace)
	}
	cons, err := gocql.ParseConsistencyWrapper(cfg.Consistency)
	if err != nil {
		return nil, fmt.Errorf("media cassandra: consistency %q: %w", cfg.Consistency, err)
	}
	serial := gocql.Serial
	switch strings.ToUpper(cfg.SerialConsistency) {
	case "SERIAL":
	case "LOCAL_SERIAL":
		serial = gocql.LocalSerial
	default:
		return nil, fmt.Errorf("media cassandra: serial consistency %q: want SERIAL or LOCAL_SERIAL", cfg.SerialConsistency)
	}
	connectCtx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()
	boot, err := connect(connectCtx, cfg, "", cons, serial)
	if err != nil {
		return nil, err
	}
	err = createKeyspace(connectCtx, boot, cfg)
	boot.Close()
	if err != nil {
		return nil, err
	}
	session, err := connect(connectCtx, cfg, cfg.Keyspace, cons, serial)
	if err != nil {
		return nil, err
	}
	s := &Store{session: session, serial: serial, shards: cfg.Shards, lookback: cfg.SweepLookback}
	s.uploadQ = queue{table: "media_uploads_by_time"}
	s.storyQ = queue{table: "media_stories_by_expiry"}
	if err := createTables(ctx, session, cfg.Keyspace); err != nil {
		session.Close()
		return nil, err
	}
	return s, nil
}

// connect opens a session, retrying while the cluster refuses connections
// (a node that is still starting) until ctx ends.
func connect(ctx context.Context, cfg Config, keyspace string, cons, serial gocql.Consistency) (*gocql.Session, error) {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cluster := gocql.NewCluster(cfg.Hosts...)
		cluster.Keyspace = keyspace
		cluster.Consistency = cons
		cluster.SerialConsistency = serial
		cluster.ConnectTimeout = cfg.ConnectTimeout
		cluster.Timeout = cfg.Timeout
		cluster.RetryPolicy = &gocql.ExponentialBackoffRetryPolicy{NumRetries: 2, Min: 100 * time.Millisecond, Max: time.Second}
		cluster.ReconnectInterval = 2 * time.Second
		cluster.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 3, Interval: time.Second}
		var fallback gocql.HostSelectionPolicy = gocql.RoundRobinHostPolicy()
		if cfg.LocalDC != "" {
			fallback = gocql.DCAwareRoundRobinPolicy(cfg.LocalDC)
		}
		cluster.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(fallback)
		if cfg.Username != "" {
			cluster.Authenticator = gocql.PasswordAuthenticator{Username: cfg.Username, Password: cfg.Password}
		}
		if cfg.TLS != nil {
			cluster.SslOpts = &gocql.SslOptions{Config: cfg.TLS, EnableHostVerification: !cfg.TLS.InsecureSkipVerify}
		}
		session, err := cluster.CreateSession()
		if err == nil {
			return session, nil
		}
		if !unavailable(err) && !errors.Is(err, gocql.ErrNoConnectionsStarted) {
			return nil, fmt.Errorf("media cassandra: connect to %s: %w", strings.Join(cfg.Hosts, ","), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("media cassandra: connect to %s: gave up after %d attempts: %w (last error: %w)",
				strings.Join(cfg.Hosts, ","), attempt, storage.ErrUnavailable, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

func createKeyspace(ctx context.Context, session *gocql.Session, cfg Config) error {
	repl := fmt.Sprintf("{'class': 'SimpleStrategy', 'replication_factor': %d}", cfg.ReplicationFactor)
	if len(cfg.DataCenters) > 0 {
		parts := []string{"'class': 'NetworkTopologyStrategy'"}
		for dc, rf := range cfg.DataCenters {
			parts = append(parts, fmt.Sprintf("'%s': %d", strings.ReplaceAll(dc, "'", "''"), rf))
		}
		repl = "{" + strings.Join(parts, ", ") + "}"
	}
	stmt := fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s", cfg.Keyspace, repl)
	if err := session.Query(stmt).Idempotent(true).ExecContext(ctx); err != nil {
		return wrap(err, "create keyspace %s", cfg.Keyspace)
	}
	return nil
}

// createTables runs schema.cql. Each table gets an id derived from the
// keyspace and its name, so processes creating it at the same moment agree
// on one table instead of racing two into the schema.
func createTables(ctx context.Context, session *gocql.Session, keyspace string) error {
	for _, stmt := range statements(schema) {
		name := strings.Fields(stmt)[5] // CREATE TABLE IF NOT EXISTS <name> (
		with := " WITH id = " + tableID(keyspace, name)
		if i := strings.LastIndex(stmt, ") WITH "); i >= 0 {
			stmt = stmt[:i+1] + with + " AND " + stmt[i+len(") WITH "):]
		} else {
			stmt += with
		}
		if err := session.Query(stmt).WithContext(ctx).Idempotent(true).Exec(); err != nil {
			return wrap(err, "create table %s", name)
		}
	}
	return nil
}

// statements splits a CQL file at the semicolons that end its lines,
// dropping "--" comments.
func statements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return out
}

func tableID(keyspace, table string) string {
	sum := sha1.Sum([]byte("messenger.media.cassandra/" + keyspace + "." + table))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	var u gocql.UUID
	copy(u[:], sum[:16])
	return u.String()
}

func validName(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
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
	return parallel(ctx, len(qs), func(ctx context.Context, i int) error {
		return s.query(ctx, qs[i].cql, qs[i].args...).Exec()
	})
}

// stmt is one statement with its arguments.
type stmt struct {
	cql  string
	args []any
}

// parallel runs fn(0..n-1), at most 16 at a time, and returns the first
// error. Multi-key lookups are fanned out as single-partition reads, each
// straight to a replica of its key (rather than IN across partitions).
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	switch n {
	case 0:
		return nil
	case 1:
		return fn(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 16)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// ms keeps t at the millisecond precision of a CQL timestamp, in UTC, so a
// value read back equals the value written.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// ttl is the TTL, in seconds, of a row that must live from from until
// until: rounded up, plus one second because Cassandra counts from the
// current whole second, so a row never vanishes before until (callers
// check expiry times themselves for the last second). Never zero, which
// would mean forever.
func ttl(from, until time.Time) int {
	return max(1, int(math.Ceil(until.Sub(from).Seconds()))+1)
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// wrap adds what was being done to a driver error, and marks the errors
// that mean "Cassandra cannot answer now" with storage.ErrUnavailable, so
// the API answers UNAVAILABLE (retry) rather than INTERNAL.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if unavailable(err) && !errors.Is(err, storage.ErrUnavailable) {
		return fmt.Errorf("media cassandra: %s: %w: %w", what, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("media cassandra: %s: %w", what, err)
}

// unavailable reports whether err means the cluster could not answer now
// (down, overloaded, timed out) rather than that the request was wrong.
func unavailable(err error) bool {
	for _, e := range []error{
		gocql.ErrNoConnections, gocql.ErrNoConnectionsStarted, gocql.ErrConnectionClosed,
		gocql.ErrTimeoutNoResponse, gocql.ErrNoStreams, gocql.ErrTooManyTimeouts,
		gocql.ErrUnavailable, gocql.ErrSessionClosed, gocql.ErrHostQueryFailed,
		context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var reqErr gocql.RequestError
	if errors.As(err, &reqErr) {
		switch reqErr.Code() {
		case gocql.ErrCodeUnavailable, gocql.ErrCodeOverloaded, gocql.ErrCodeBootstrapping,
			gocql.ErrCodeWriteTimeout, gocql.ErrCodeReadTimeout, gocql.ErrCodeCASWriteUnknown:
			return true
		}
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// The driver flattens some connection errors into text.
	msg := err.Error()
	return strings.Contains(msg, "no connections") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "unable to create session")
}
