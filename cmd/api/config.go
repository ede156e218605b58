package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is everything the API reads from flags and MESSENGER_* environment
// variables. A flag wins over its variable; nothing is required.
type config struct {
	HTTPAddr     string
	DataDir      string
	Env          string
	Playground   bool
	JWTSecret    string
	TokenTTL     time.Duration
	RecallWindow time.Duration
	NoSync       bool

	CassandraHosts    []string
	CassandraKeyspace string
	CassandraConsist  string
	CassandraUser     string
	CassandraPassword string

	RedisAddrs   []string
	RedisCluster bool
}

// configVar documents one setting: the README's configuration table is
// written from this list.
type configVar struct {
	env, flag, def, help string
}

var configVars = []configVar{
	{"MESSENGER_HTTP_ADDR", "http-addr", ":8080", "address to listen on"},
	{"MESSENGER_DATA_DIR", "data-dir", "./data", "directory of the embedded store and the generated signing key"},
	{"MESSENGER_ENV", "env", "development", "`production` turns the playground off unless MESSENGER_PLAYGROUND=true"},
	{"MESSENGER_PLAYGROUND", "playground", "", "serve /playground (default: on, off in production)"},
	{"MESSENGER_JWT_SECRET", "jwt-secret", "", "HMAC key for tokens (32+ bytes); default: generated once into the data directory"},
	{"MESSENGER_TOKEN_TTL", "token-ttl", "168h", "how long a token is valid"},
	{"MESSENGER_RECALL_WINDOW", "recall-window", "24h", "how long a sender may delete a message for everyone"},
	{"MESSENGER_NO_SYNC", "no-sync", "false", "embedded store: acknowledge before fsync (faster; a machine crash may lose the last writes)"},
	{"MESSENGER_CASSANDRA_HOSTS", "cassandra-hosts", "", "comma-separated host:port list: switches durable data to Cassandra"},
	{"MESSENGER_CASSANDRA_KEYSPACE", "cassandra-keyspace", "messenger", "Cassandra keyspace (created with migrations at start)"},
	{"MESSENGER_CASSANDRA_CONSISTENCY", "cassandra-consistency", "LOCAL_QUORUM", "Cassandra consistency level"},
	{"MESSENGER_CASSANDRA_USERNAME", "cassandra-username", "", "Cassandra user"},
	{"MESSENGER_CASSANDRA_PASSWORD", "cassandra-password", "", "Cassandra password"},
	{"MESSENGER_REDIS_ADDRS", "redis-addrs", "", "comma-separated Redis addresses: switches realtime events to Redis Streams (several = sharded by user)"},
	{"MESSENGER_REDIS_CLUSTER", "redis-cluster", "false", "treat MESSENGER_REDIS_ADDRS as a Redis Cluster"},
}

func loadConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, v := range configVars {
		def := v.def
		if e, ok := os.LookupEnv(v.env); ok {
			def = e
		}
		vals[v.env] = fs.String(v.flag, def, v.help+" (env "+v.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	get := func(k string) string { return strings.TrimSpace(*vals[k]) }
	var c config
	var err error
	c.HTTPAddr, c.DataDir, c.Env = get("MESSENGER_HTTP_ADDR"), get("MESSENGER_DATA_DIR"), get("MESSENGER_ENV")
	c.JWTSecret = get("MESSENGER_JWT_SECRET")
	c.Playground = c.Env != "production"
	if p := get("MESSENGER_PLAYGROUND"); p != "" {
		if c.Playground, err = strconv.ParseBool(p); err != nil {
			return c, fmt.Errorf("MESSENGER_PLAYGROUND: %w", err)
		}
	}
	for k, d := range map[string]*time.Duration{"MESSENGER_TOKEN_TTL": &c.TokenTTL, "MESSENGER_RECALL_WINDOW": &c.RecallWindow} {
		if *d, err = time.ParseDuration(get(k)); err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	for k, b := range map[string]*bool{"MESSENGER_NO_SYNC": &c.NoSync, "MESSENGER_REDIS_CLUSTER": &c.RedisCluster} {
		if *b, err = strconv.ParseBool(get(k)); err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	c.CassandraHosts = list(get("MESSENGER_CASSANDRA_HOSTS"))
	c.CassandraKeyspace, c.CassandraConsist = get("MESSENGER_CASSANDRA_KEYSPACE"), get("MESSENGER_CASSANDRA_CONSISTENCY")
	c.CassandraUser, c.CassandraPassword = get("MESSENGER_CASSANDRA_USERNAME"), get("MESSENGER_CASSANDRA_PASSWORD")
	c.RedisAddrs = list(get("MESSENGER_REDIS_ADDRS"))
	return c, nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
