package cql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/fault"
)

// Session is a driver session bound to its keyspace, with what the
// backends' statements need to know of how it was opened.
type Session struct {
	*gocql.Session
	// Keyspace is the keyspace the session is bound to (Config.Keyspace or
	// its default).
	Keyspace string
	// Serial is the serial consistency of lightweight transactions.
	Serial gocql.Consistency
}

// Open connects to Cassandra, creates cfg.Keyspace when missing and returns
// a session bound to it. A cluster that cannot be reached is retried with
// backoff for at most cfg.StartupTimeout (or until ctx ends), then Open
// returns an error wrapping fault.ErrUnavailable. Each call opens its own
// session (its own connections), as a separate process would.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	cfg.setDefaults()
	newCluster, serial, err := prepare(cfg)
	if err != nil {
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
	return &Session{Session: session, Keyspace: cfg.Keyspace, Serial: serial}, nil
}

// OpenUnbound connects like Open but binds no keyspace and creates
// nothing: for reading the system tables (a migration's dry run) without
// changing the cluster. Session.Keyspace names the configured keyspace;
// statements must qualify their tables with it.
func OpenUnbound(ctx context.Context, cfg Config) (*Session, error) {
	cfg.setDefaults()
	newCluster, serial, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	connectCtx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()
	session, err := connect(connectCtx, cfg.Hosts, func() (*gocql.ClusterConfig, error) { return newCluster("") })
	if err != nil {
		return nil, err
	}
	return &Session{Session: session, Keyspace: cfg.Keyspace, Serial: serial}, nil
}

// prepare checks cfg (with its defaults set) and returns a maker of
// cluster configs and the serial consistency.
func prepare(cfg Config) (newCluster func(keyspace string) (*gocql.ClusterConfig, error), serial gocql.Consistency, err error) {
	if len(cfg.Hosts) == 0 {
		return nil, 0, errors.New("cassandra: Config.Hosts is required")
	}
	if !validName(cfg.Keyspace) {
		return nil, 0, fmt.Errorf("cassandra: keyspace %q: use letters, digits and _ only", cfg.Keyspace)
	}
	cons, err := gocql.ParseConsistencyWrapper(cfg.Consistency)
	if err != nil {
		return nil, 0, fmt.Errorf("cassandra: consistency %q: %w", cfg.Consistency, err)
	}
	switch strings.ToUpper(cfg.SerialConsistency) {
	case "SERIAL":
		serial = gocql.Serial
	case "LOCAL_SERIAL":
		serial = gocql.LocalSerial
	default:
		return nil, 0, fmt.Errorf("cassandra: serial consistency %q: want SERIAL or LOCAL_SERIAL", cfg.SerialConsistency)
	}
	// A fresh cluster config per session: the driver's host selection
	// policies cannot be shared between sessions.
	newCluster = func(keyspace string) (*gocql.ClusterConfig, error) {
		return clusterConfig(cfg, keyspace, cons, serial)
	}
	if _, err := newCluster(""); err != nil {
		return nil, 0, err
	}
	return newCluster, serial, nil
}

// Replication is the replication map Open gives a keyspace it creates,
// as CQL (e.g. {'class': 'SimpleStrategy', 'replication_factor': 1}).
func Replication(cfg Config) string {
	cfg.setDefaults()
	return replication(cfg)
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
	// 60 s), so a store recovers by itself within seconds of Cassandra
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
		if !Unavailable(err) && !errors.Is(err, gocql.ErrNoConnectionsStarted) {
			return nil, fmt.Errorf("cassandra: connect to %s: %w", strings.Join(hosts, ","), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cassandra: connect to %s: gave up after %d attempts: %w (last error: %w)",
				strings.Join(hosts, ","), attempt, fault.ErrUnavailable, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

func createKeyspace(ctx context.Context, session *gocql.Session, cfg Config) error {
	stmt := fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s", cfg.Keyspace, replication(cfg))
	if err := ExecSchema(ctx, session, stmt); err != nil {
		return Wrap(err, "cassandra: create keyspace %s", cfg.Keyspace)
	}
	return nil
}

func replication(cfg Config) string {
	repl := fmt.Sprintf("{'class': 'SimpleStrategy', 'replication_factor': %d}", cfg.ReplicationFactor)
	if len(cfg.DataCenters) > 0 {
		parts := []string{"'class': 'NetworkTopologyStrategy'"}
		for dc, rf := range cfg.DataCenters {
			parts = append(parts, fmt.Sprintf("'%s': %d", strings.ReplaceAll(dc, "'", "''"), rf))
		}
		repl = "{" + strings.Join(parts, ", ") + "}"
	}
	return repl
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
