// Package cql is the CQL plumbing shared by the Cassandra backends (the
// chat store, storage/cassandra, and the media metadata, media/cassandra):
// opening a session from one Config, with bounded retries and keyspace
// creation; telling the driver errors that mean "Cassandra cannot answer
// now" (fault.ErrUnavailable) from the rest; fanning multi-key lookups out
// as bounded-parallel single-partition reads; and the conventions both
// follow for timestamps, schema files and table ids.
package cql

import "time"

// Config is how to reach Cassandra and which keyspace to use. Zero values
// are the documented defaults; only Hosts is required. Both backends take
// it, so one set of settings serves both.
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
	// error. Work done after Open (migrations, tables) is bounded by the
	// caller's ctx and Timeout per statement instead: schema agreement on a
	// big cluster may take longer. Default 30s.
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

// Timestamp truncates t to the millisecond precision of a CQL timestamp and
// keeps it in UTC, so a value read back equals the value written. The zero
// time stays zero.
func Timestamp(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}
