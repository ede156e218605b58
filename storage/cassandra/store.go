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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/storage"
)

var _ storage.Store = (*Store)(nil)

// Config configures the Cassandra store. Zero values are the documented
// defaults; only Hosts is required.
type Config struct {
	// Hosts are the contact points as "host:port" (port 9042 when omitted).
	// The driver discovers the rest of the ring from them. Required.
	Hosts []string
	// Keyspace holds every table; it is created when missing. Default "messenger".
	Keyspace string
	// Consistency of reads and writes, by its CQL name. Default "LOCAL_QUORUM"
	// (on one node that is simply the node).
	Consistency string
	// SerialConsistency of the Paxos phase of lightweight transactions:
	// "SERIAL" (default) or "LOCAL_SERIAL". LOCAL_SERIAL is cheaper across
	// data centres but keeps seqs unique only if each conversation is written
	// from one data centre at a time.
	SerialConsistency string
	// ReplicationFactor of SimpleStrategy when the keyspace is created and
	// DataCenters is empty. Default 1. Replication of an existing keyspace is
	// never changed.
	ReplicationFactor int
	// DataCenters, when set, creates the keyspace with NetworkTopologyStrategy
	// and these replication factors per data centre (production).
	DataCenters map[string]int
	// LocalDC, when set, sends queries to that data centre's replicas first.
	// Empty: token-aware round robin over every host.
	LocalDC string
	// Username and Password authenticate with PasswordAuthenticator when
	// Username is set.
	Username string
	Password string
	// TLS encrypts client connections when TLS.Enabled.
	TLS TLSConfig
	// ConnectTimeout bounds dialling and setting up one connection. Default 5s.
	ConnectTimeout time.Duration
	// Timeout bounds one request on the client side; it must be above the
	// server's own request timeouts (2 s write, 5 s read by default), so the
	// server answers with a timeout error first. Default 6s.
	Timeout time.Duration
	// StartupTimeout bounds how long Open keeps retrying a Cassandra that is
	// not reachable yet (and creating the keyspace) before giving up with an
	// error. Migrations are bounded by Open's ctx and Timeout per statement
	// instead: schema agreement on a big cluster may take longer. Default 30s.
	StartupTimeout time.Duration
}

// TLSConfig configures TLS for client connections.
type TLSConfig struct {
	// Enabled turns TLS on.
	Enabled bool
	// CAFile is a PEM file of the CAs that signed the servers' certificates;
	// empty uses the system roots.
	CAFile string
	// CertFile and KeyFile are the client certificate, for servers that
	// require one.
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
	// InsecureSkipVerify accepts any server certificate (tests only).
	InsecureSkipVerify bool
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
}

// Store is the Cassandra-backed storage.Store. It is safe for concurrent use,
// and several Stores (in one process or many) may share one keyspace.
type Store struct {
	session  *gocql.Session
	keyspace string
	serial   gocql.Consistency
	// sendLocks serialise AppendMessage per conversation inside this
	// process, so the Paxos transactions of one conversation's sequencer
	// compete with other processes only, not with our own goroutines.
	sendLocks [1024]chan struct{}
	heads     headCache
	outbox    outboxState
}

// Open connects to Cassandra, creates the keyspace when missing and applies
// the embedded migrations (see migrate). A cluster that cannot be reached is
// retried with backoff for at most cfg.StartupTimeout (or until ctx ends),
// then Open returns an error wrapping storage.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("cassandra: Config.Hosts is required")
	}
	if !validName(cfg.Keyspace) {
		return nil, fmt.Errorf("cassandra: keyspace %q: use letters, digits and _ only", cfg.Keyspace)
	}
	cons, err := gocql.ParseConsistencyWrapper(cfg.Consistency)
	if err != nil {
		return nil, fmt.Errorf("cassandra: consistency %q: %w", cfg.Consistency, err)
	}
	var serial gocql.Consistency
	switch strings.ToUpper(cfg.SerialConsistency) {
	case "SERIAL":
		serial = gocql.Serial
	case "LOCAL_SERIAL":
		serial = gocql.LocalSerial
	default:
		return nil, fmt.Errorf("cassandra: serial consistency %q: want SERIAL or LOCAL_SERIAL", cfg.SerialConsistency)
	}
	// A fresh cluster config per session: the driver's host selection
	// policies cannot be shared between sessions.
	newCluster := func(keyspace string) (*gocql.ClusterConfig, error) {
		return clusterConfig(cfg, keyspace, cons, serial)
	}
	if _, err := newCluster(""); err != nil {
		return nil, err
	}
	connectCtx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()

	// The keyspace must exist before a session can be bound to it, so a
	// first session without one creates it.
	boot, err := connect(connectCtx, cfg.Hosts, func() (*gocql.ClusterConfig, error) { return newCluster("") })
	if err != nil {
		return nil, err
	}
	err = createKeyspace(connectCtx, boot, cfg)
	boot.Close()
	if err != nil {
		return nil, err
	}
	session, err := connect(connectCtx, cfg.Hosts, func() (*gocql.ClusterConfig, error) { return newCluster(cfg.Keyspace) })
	if err != nil {
		return nil, err
	}
	s := &Store{session: session, keyspace: cfg.Keyspace, serial: serial}
	for i := range s.sendLocks {
		s.sendLocks[i] = make(chan struct{}, 1)
	}
	if err := s.migrate(ctx); err != nil {
		session.Close()
		return nil, err
	}
	return s, nil
}

func clusterConfig(cfg Config, keyspace string, cons, serial gocql.Consistency) (*gocql.ClusterConfig, error) {
	cluster := gocql.NewCluster(cfg.Hosts...)
	cluster.Keyspace = keyspace
	cluster.Consistency = cons
	cluster.SerialConsistency = serial
	cluster.ConnectTimeout = cfg.ConnectTimeout
	cluster.Timeout = cfg.Timeout
	// Idempotent statements are retried twice on another connection (or the
	// same host once it is back), with a short backoff: long enough to ride
	// over a coordinator restart, short enough to fail a request in
	// seconds, not minutes, when the cluster is really down.
	cluster.RetryPolicy = &gocql.ExponentialBackoffRetryPolicy{NumRetries: 2, Min: 100 * time.Millisecond, Max: time.Second}
	// A host marked down is redialled every 2 s (the driver's default is
	// 60 s), so the store recovers by itself within seconds of Cassandra
	// coming back.
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
	if cfg.TLS.Enabled {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		cluster.SslOpts = &gocql.SslOptions{Config: tc, EnableHostVerification: !cfg.TLS.InsecureSkipVerify}
	}
	return cluster, nil
}

func tlsConfig(c TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cassandra: TLS CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cassandra: TLS CA file %s: no PEM certificate in it", c.CAFile)
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cassandra: TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// connect creates a session, retrying with backoff until ctx ends: a node
// that is still starting refuses connections for a while.
func connect(ctx context.Context, hosts []string, newCluster func() (*gocql.ClusterConfig, error)) (*gocql.Session, error) {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cluster, err := newCluster()
		if err != nil {
			return nil, err
		}
		session, err := cluster.CreateSession()
		if err == nil {
			return session, nil
		}
		if !unavailable(err) && !errors.Is(err, gocql.ErrNoConnectionsStarted) {
			return nil, fmt.Errorf("cassandra: connect to %s: %w", strings.Join(hosts, ","), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cassandra: connect to %s: gave up after %d attempts: %w (last error: %w)",
				strings.Join(hosts, ","), attempt, storage.ErrUnavailable, err)
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

// lockSend takes this process's send lock for a conversation, or gives up
// when ctx ends.
func (s *Store) lockSend(ctx context.Context, conversationID string) (func(), error) {
	ch := s.sendLocks[fnv32(conversationID)%uint32(len(s.sendLocks))]
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, wrap(ctx.Err(), "wait for send lock of %s", conversationID)
	}
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// parallel runs fn(0..n-1) with at most 16 in flight and returns the first
// error. Fan-outs of single-partition reads are how Cassandra wants
// multi-key lookups (rather than IN across partitions): each goes straight
// to a replica that owns its key.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if n == 1 {
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
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
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

// ms truncates t to the millisecond precision of a CQL timestamp and keeps
// it in UTC, so a value read back equals the value written.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// optTime converts a nullable timestamp read from Cassandra.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
