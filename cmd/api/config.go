package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"messenger/ratelimit"
)

// config is everything the API reads from flags and MESSENGER_* environment
// variables. A flag wins over its variable; nothing is required.
type config struct {
	// ColdAfter is the age after which history moves to the cold tier
	// (0: never).
	ColdAfter time.Duration
	HTTPAddr  string
	DebugAddr string
	// SearchFlush is how long the search indexer gathers changes into one
	// bulk write (indexer.Config.FlushDelay).
	SearchFlush time.Duration
	// SearchProcess runs the embedded search index in a child process
	// (search/subprocess).
	SearchProcess bool
	DataDir       string
	Env           string
	Playground    bool
	JWTSecret     string
	TokenTTL      time.Duration
	// RefreshTokenTTL is how long a refresh token is valid.
	RefreshTokenTTL time.Duration
	RecallWindow    time.Duration
	NoSync          bool
	// FanOutGrace and FanOutSweep tune the fan-out outbox (chat.Config).
	FanOutGrace, FanOutSweep time.Duration
	// LargeGroupThreshold is chat.Config.LargeGroupThreshold.
	LargeGroupThreshold int
	// MaxHashes bounds concurrent password hashes (auth.HashGateConfig.Max;
	// 0: one per core).
	MaxHashes int
	// MaxGroupMembers caps a group's or a channel's size
	// (chat.Config.MaxGroupMembers).
	MaxGroupMembers int
	// ImageDecodes bounds concurrent image decodes (thumbnails, avatars:
	// media.SetConcurrentDecodes).
	ImageDecodes int

	CassandraHosts    []string
	CassandraKeyspace string
	CassandraConsist  string
	CassandraUser     string
	CassandraPassword string
	CassandraRF       int
	CassandraDCs      map[string]int
	CassandraLocalDC  string
	CassandraTLSCA    string

	RedisAddrs   []string
	RedisCluster bool
	// EventsMaxLen and EventsMaxAge bound each user's event log (in
	// process or a Redis stream): a cursor older than both gets
	// CURSOR_EXPIRED.
	EventsMaxLen int
	EventsMaxAge time.Duration

	// Production and partners (see the README's "Production and partners").
	AllowedOrigins   []string
	TrustedDocuments string
	PartnerKeys      map[string]string
	RateLimits       bool
	RateSend         ratelimit.Rule
	RateEdit         ratelimit.Rule
	RateReact        ratelimit.Rule
	RateTyping       ratelimit.Rule
	RateAuth         ratelimit.Rule
	RateExpensive    ratelimit.Rule
	MaxBatch         int
	// APQCacheBytes bounds the APQ cache (memory or Redis);
	// APQMaxDocument caps one document it registers.
	APQCacheBytes  int64
	APQMaxDocument int
	// MetricsPublic serves /metrics on the public listener (default: on
	// in development, off in production); /metrics is always on the debug
	// listener.
	MetricsPublic   bool
	MaxDepth        int
	MaxComplexity   int
	RequestTimeout  time.Duration
	WSPingInterval  time.Duration
	WSInitTimeout   time.Duration
	WSMaxOperations int
	WSCompression   bool
	ClientIPHeader  string

	S3Endpoint, S3Bucket, S3Region, S3AccessKey, S3SecretKey string
	// MessageVideoBytes caps a video attached to a message.
	MessageVideoBytes int64
	// MaxLargeFile caps a file uploaded in parts (createMultipartUpload).
	MaxLargeFile int64
	// PublicURL is where clients reach the API; signed file URLs start
	// with it (see publicURL in media.go).
	PublicURL string

	OpenSearchURLs                     []string
	OpenSearchUser, OpenSearchPassword string
	OpenSearchInsecure                 bool
	OpenSearchPrefix                   string

	// OTLPEndpoint is the OTLP/HTTP collector traces go to (see package tracing).
	OTLPEndpoint string
	// Migrate applies Cassandra migrations and creates OpenSearch indices
	// at start; false only checks that `api migrate` did (see migrate.go).
	Migrate bool
	// LinkPreviews fetches previews of the links in messages (see
	// linkpreview.go); LinkPreviewPorts are the ports a link may name.
	LinkPreviews     bool
	LinkPreviewPorts []int
}

// configVar documents one setting: the README's configuration table is
// written from this list.
type configVar struct {
	env, flag, def, help string
}

var configVars = []configVar{
	{"MESSENGER_HTTP_ADDR", "http-addr", ":8080", "address to listen on"},
	{"MESSENGER_DEBUG_ADDR", "debug-addr", "", "address of a separate listener serving Go's profiler at /debug/pprof/ and /metrics (keep it private; default: none)"},
	{"MESSENGER_METRICS_PUBLIC", "metrics-public", "", "serve /metrics on the public listener too (default: true in development, false in production)"},
	{"MESSENGER_DATA_DIR", "data-dir", "./data", "directory of the embedded store and the generated signing key"},
	{"MESSENGER_ENV", "env", "development", "`production` turns the playground off unless MESSENGER_PLAYGROUND=true"},
	{"MESSENGER_PLAYGROUND", "playground", "", "serve /playground (default: on, off in production)"},
	{"MESSENGER_JWT_SECRET", "jwt-secret", "", "HMAC key for tokens (32+ bytes); default: generated once into the data directory"},
	{"MESSENGER_TOKEN_TTL", "token-ttl", "15m", "how long an access token is valid (also how long an instance remembers a revoked session)"},
	{"MESSENGER_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "how long a refresh token is valid; each refresh issues a new one"},
	{"MESSENGER_RECALL_WINDOW", "recall-window", "24h", "how long a sender may delete a message for everyone"},
	{"MESSENGER_FANOUT_GRACE", "fanout-grace", "10s", "how long a message's fan-out may stay unconfirmed before the outbox sweeper replays it (e.g. after the event log was down)"},
	{"MESSENGER_FANOUT_SWEEP", "fanout-sweep", "2s", "how often each instance sweeps the fan-out outbox"},
	{"MESSENGER_LARGE_GROUP_THRESHOLD", "large-group-threshold", "1000", "member count past which a conversation becomes streamed (sticky): its events are appended once to the conversation's stream instead of to every member's log (docs/large-groups.md)"},
	{"MESSENGER_MAX_CONCURRENT_HASHES", "max-concurrent-hashes", "0", "password hashes (signUp, logIn) running at once, 64 MiB each; more wait up to 5 s, then RATE_LIMITED (0: one per core)"},
	{"MESSENGER_MAX_GROUP_MEMBERS", "max-group-members", "200000", "most members a group or a channel may have"},
	{"MESSENGER_NO_SYNC", "no-sync", "false", "embedded store: acknowledge before fsync (faster; a machine crash may lose the last writes)"},
	{"MESSENGER_CASSANDRA_HOSTS", "cassandra-hosts", "", "comma-separated host:port list: switches durable data to Cassandra"},
	{"MESSENGER_CASSANDRA_KEYSPACE", "cassandra-keyspace", "messenger", "Cassandra keyspace (created with migrations at start)"},
	{"MESSENGER_CASSANDRA_CONSISTENCY", "cassandra-consistency", "LOCAL_QUORUM", "Cassandra consistency level"},
	{"MESSENGER_CASSANDRA_USERNAME", "cassandra-username", "", "Cassandra user"},
	{"MESSENGER_CASSANDRA_PASSWORD", "cassandra-password", "", "Cassandra password"},
	{"MESSENGER_CASSANDRA_REPLICATION", "cassandra-replication", "1", "replication when the keyspace is created: a number (SimpleStrategy) or dc1:3,dc2:3 (NetworkTopologyStrategy)"},
	{"MESSENGER_CASSANDRA_LOCAL_DC", "cassandra-local-dc", "", "data centre whose nodes are preferred (token-aware, DC-aware routing)"},
	{"MESSENGER_CASSANDRA_TLS_CA", "cassandra-tls-ca", "", "CA certificate file: turns TLS on for Cassandra connections"},
	{"MESSENGER_REDIS_ADDRS", "redis-addrs", "", "comma-separated Redis addresses: switches realtime events to Redis Streams (several = sharded by user)"},
	{"MESSENGER_REDIS_CLUSTER", "redis-cluster", "false", "treat MESSENGER_REDIS_ADDRS as a Redis Cluster"},
	{"MESSENGER_EVENTS_MAX_LEN", "events-max-len", "1000", "events kept per user (each user's Redis stream is trimmed to about this many, or the in-process log); resuming from an older cursor gives CURSOR_EXPIRED"},
	{"MESSENGER_EVENTS_MAX_AGE", "events-max-age", "1h", "how long events are kept per user, whatever their number"},
	{"MESSENGER_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated browser origins (e.g. https://app.example.com) that may open websockets besides the API's own host; `*` allows any; clients that send no Origin are always allowed"},
	{"MESSENGER_TRUSTED_DOCUMENTS", "trusted-documents", "", "path of a trusted documents manifest (Apollo persisted query manifest JSON); partner keys may run only these"},
	{"MESSENGER_PARTNER_KEYS", "partner-keys", "", "comma-separated partner API keys as name:key (sent as X-Api-Key or apiKey in connection_init)"},
	{"MESSENGER_RATE_LIMITS", "rate-limits", "true", "per-user and per-IP rate limits (false: off, e.g. for load tests); shared through Redis when MESSENGER_REDIS_ADDRS is set"},
	{"MESSENGER_RATE_SEND", "rate-send", "20,40", "sendMessage per user: tokens per second,burst"},
	{"MESSENGER_RATE_EDIT", "rate-edit", "5,30", "editMessage and deleteMessage per user: tokens per second,burst"},
	{"MESSENGER_RATE_REACT", "rate-react", "5,30", "addReaction and removeReaction per user (one bucket): tokens per second,burst"},
	{"MESSENGER_RATE_TYPING", "rate-typing", "2,10", "setTyping per user: tokens per second,burst"},
	{"MESSENGER_RATE_AUTH", "rate-auth", "2,20", "signUp and logIn per client IP: tokens per second,burst"},
	{"MESSENGER_RATE_EXPENSIVE", "rate-expensive", "5,20", "operations costing over 1,000 per user: tokens per second,burst"},
	{"MESSENGER_MAX_DEPTH", "max-depth", "12", "deepest field nesting an operation may have"},
	{"MESSENGER_MAX_COMPLEXITY", "max-complexity", "5000", "highest operation cost (each field 1, lists times first/last)"},
	{"MESSENGER_MAX_BATCH", "max-batch", "10", "most operations in one batched request (a JSON array body); a batch is also held to the cost, alias and token limits as a whole"},
	{"MESSENGER_APQ_CACHE_BYTES", "apq-cache-bytes", "16MiB", "bytes of automatic persisted queries kept (in memory, or in Redis when MESSENGER_REDIS_ADDRS is set); least recently used go first"},
	{"MESSENGER_APQ_MAX_DOCUMENT", "apq-max-document", "64KiB", "largest document automatic persisted queries register (QUERY_TOO_LARGE beyond)"},
	{"MESSENGER_REQUEST_TIMEOUT", "request-timeout", "15s", "time limit of a query or mutation"},
	{"MESSENGER_WS_PING_INTERVAL", "ws-ping-interval", "20s", "how often the server pings websockets; a socket silent for a whole interval after a ping is dropped"},
	{"MESSENGER_WS_INIT_TIMEOUT", "ws-init-timeout", "10s", "time a websocket has to send connection_init (then 4408)"},
	{"MESSENGER_WS_MAX_OPERATIONS", "ws-max-operations", "100", "operations one websocket may run at once (then 4429)"},
	{"MESSENGER_WS_COMPRESSION", "ws-compression", "true", "permessage-deflate for websocket clients that offer it (no context takeover; messages of 1 KiB or more); false: off"},
	{"MESSENGER_CLIENT_IP_HEADER", "client-ip-header", "", "header a trusted proxy sets to the client's IP (e.g. X-Real-IP), for per-IP limits; default: the connection's address"},
	{"MESSENGER_PUBLIC_URL", "public-url", "", "the API's public URL (e.g. https://api.example.com), which every signed file URL starts with; never taken from a request's Host header; default http://localhost:<port of MESSENGER_HTTP_ADDR> (required in production)"},
	{"MESSENGER_S3_ENDPOINT", "s3-endpoint", "", "S3 or MinIO URL (path-style): switches attachment and story files to S3 (default: <data>/blobs)"},
	{"MESSENGER_S3_BUCKET", "s3-bucket", "messenger", "S3 bucket for files (created if missing)"},
	{"MESSENGER_S3_REGION", "s3-region", "us-east-1", "S3 region"},
	{"MESSENGER_S3_ACCESS_KEY", "s3-access-key", "", "S3 access key"},
	{"MESSENGER_S3_SECRET_KEY", "s3-secret-key", "", "S3 secret key"},
	{"MESSENGER_MESSAGE_VIDEO_MAX_BYTES", "message-video-max-bytes", "32MiB", "largest video attached to a message (at most 3 minutes long; story videos keep their 32 MiB)"},
	{"MESSENGER_MAX_LARGE_FILE", "max-large-file", "2GiB", "largest file uploaded in parts straight to storage (createMultipartUpload), e.g. 2GiB"},
	{"MESSENGER_COLD_AFTER", "cold-after", "0", "age (e.g. 2160h) after which message history moves from Cassandra to S3 segments (the cold tier, docs/cold-tier.md; needs MESSENGER_S3_*); 0: never moved, though moved history is always read back"},
	{"MESSENGER_IMAGE_DECODES", "image-decodes", "2", "images decoded at once (thumbnails, avatars), each up to 40 megapixels in memory; more wait"},
	{"MESSENGER_SEARCH_FLUSH", "search-flush", "500ms", "how long the search indexer gathers changes into one bulk write: longer costs less CPU per message (each write is a new bleve segment to merge), shorter makes messages searchable sooner"},
	{"MESSENGER_SEARCH_PROCESS", "search-process", "true", "run the embedded search index (bleve) in a child process at nice 10, so indexing and merges never hold the core a send or a delivery waits for (the kernel preempts them at once); false: in the API's own process"},
	{"MESSENGER_OPENSEARCH_URL", "opensearch-url", "", "comma-separated OpenSearch node URLs: switches search to OpenSearch (default: bleve index in <data>/search)"},
	{"MESSENGER_OPENSEARCH_USERNAME", "opensearch-username", "", "OpenSearch basic-auth user"},
	{"MESSENGER_OPENSEARCH_PASSWORD", "opensearch-password", "", "OpenSearch basic-auth password"},
	{"MESSENGER_OPENSEARCH_INSECURE", "opensearch-insecure", "false", "skip TLS certificate verification for OpenSearch (test clusters only)"},
	{"MESSENGER_OPENSEARCH_PREFIX", "opensearch-prefix", "messenger-", "prefix of the OpenSearch index and alias names"},
	{"MESSENGER_MIGRATE", "migrate", "true", "apply Cassandra migrations and create OpenSearch indices at start; false: refuse to start unless `api migrate` has already done it (run it before rolling out)"},
	{"MESSENGER_LINK_PREVIEWS", "link-previews", "", "fetch a preview of the first link of each message (true/false; default: on with MESSENGER_CASSANDRA_HOSTS, off in embedded mode); see docs/linkpreview.md"},
	{"MESSENGER_LINK_PREVIEW_PORTS", "link-preview-ports", "80,443", "comma-separated TCP ports a previewed link may name"},
	{"MESSENGER_OTLP_ENDPOINT", "otlp-endpoint", "", "OTLP/HTTP collector base URL (e.g. http://localhost:4318): send traces to <url>/v1/traces; default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing"},
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
	c.DebugAddr = get("MESSENGER_DEBUG_ADDR")
	c.JWTSecret = get("MESSENGER_JWT_SECRET")
	c.Playground = c.Env != "production"
	if p := get("MESSENGER_PLAYGROUND"); p != "" {
		if c.Playground, err = strconv.ParseBool(p); err != nil {
			return c, fmt.Errorf("MESSENGER_PLAYGROUND: %w", err)
		}
	}
	c.MetricsPublic = c.Env != "production"
	if p := get("MESSENGER_METRICS_PUBLIC"); p != "" {
		if c.MetricsPublic, err = strconv.ParseBool(p); err != nil {
			return c, fmt.Errorf("MESSENGER_METRICS_PUBLIC: %w", err)
		}
	}
	if c.MaxLargeFile, err = parseBytes(get("MESSENGER_MAX_LARGE_FILE")); err != nil || c.MaxLargeFile < 1 {
		return c, fmt.Errorf("MESSENGER_MAX_LARGE_FILE: want a size such as 2GiB, got %q", get("MESSENGER_MAX_LARGE_FILE"))
	}
	if c.APQCacheBytes, err = parseBytes(get("MESSENGER_APQ_CACHE_BYTES")); err != nil || c.APQCacheBytes < 1 {
		return c, fmt.Errorf("MESSENGER_APQ_CACHE_BYTES: want a size such as 16MiB, got %q", get("MESSENGER_APQ_CACHE_BYTES"))
	}
	n, err := parseBytes(get("MESSENGER_APQ_MAX_DOCUMENT"))
	if err != nil || n < 1 || n > 1<<30 {
		return c, fmt.Errorf("MESSENGER_APQ_MAX_DOCUMENT: want a size such as 64KiB, got %q", get("MESSENGER_APQ_MAX_DOCUMENT"))
	}
	c.APQMaxDocument = int(n)
	if c.MessageVideoBytes, err = parseBytes(get("MESSENGER_MESSAGE_VIDEO_MAX_BYTES")); err != nil || c.MessageVideoBytes < 1 || c.MessageVideoBytes > 1<<30 {
		return c, fmt.Errorf("MESSENGER_MESSAGE_VIDEO_MAX_BYTES: want a size up to 1GiB such as 32MiB, got %q", get("MESSENGER_MESSAGE_VIDEO_MAX_BYTES"))
	}
	for k, d := range map[string]*time.Duration{"MESSENGER_TOKEN_TTL": &c.TokenTTL, "MESSENGER_REFRESH_TOKEN_TTL": &c.RefreshTokenTTL, "MESSENGER_RECALL_WINDOW": &c.RecallWindow,
		"MESSENGER_FANOUT_GRACE": &c.FanOutGrace, "MESSENGER_FANOUT_SWEEP": &c.FanOutSweep, "MESSENGER_EVENTS_MAX_AGE": &c.EventsMaxAge,
		"MESSENGER_SEARCH_FLUSH": &c.SearchFlush, "MESSENGER_COLD_AFTER": &c.ColdAfter} {
		if *d, err = time.ParseDuration(get(k)); err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	for k, b := range map[string]*bool{"MESSENGER_NO_SYNC": &c.NoSync, "MESSENGER_REDIS_CLUSTER": &c.RedisCluster, "MESSENGER_WS_COMPRESSION": &c.WSCompression,
		"MESSENGER_SEARCH_PROCESS": &c.SearchProcess} {
		if *b, err = strconv.ParseBool(get(k)); err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	c.CassandraHosts = list(get("MESSENGER_CASSANDRA_HOSTS"))
	c.CassandraKeyspace, c.CassandraConsist = get("MESSENGER_CASSANDRA_KEYSPACE"), get("MESSENGER_CASSANDRA_CONSISTENCY")
	c.CassandraUser, c.CassandraPassword = get("MESSENGER_CASSANDRA_USERNAME"), get("MESSENGER_CASSANDRA_PASSWORD")
	c.CassandraLocalDC, c.CassandraTLSCA = get("MESSENGER_CASSANDRA_LOCAL_DC"), get("MESSENGER_CASSANDRA_TLS_CA")
	if c.CassandraRF, c.CassandraDCs, err = parseReplication(get("MESSENGER_CASSANDRA_REPLICATION")); err != nil {
		return c, fmt.Errorf("MESSENGER_CASSANDRA_REPLICATION: %w", err)
	}
	if c.LargeGroupThreshold, err = strconv.Atoi(get("MESSENGER_LARGE_GROUP_THRESHOLD")); err != nil || c.LargeGroupThreshold < 1 {
		return c, fmt.Errorf("MESSENGER_LARGE_GROUP_THRESHOLD: want a positive number of members, got %q", get("MESSENGER_LARGE_GROUP_THRESHOLD"))
	}
	c.RedisAddrs = list(get("MESSENGER_REDIS_ADDRS"))
	if c.MaxHashes, err = strconv.Atoi(get("MESSENGER_MAX_CONCURRENT_HASHES")); err != nil || c.MaxHashes < 0 {
		return c, fmt.Errorf("MESSENGER_MAX_CONCURRENT_HASHES: want 0 (one per core) or a positive number, got %q", get("MESSENGER_MAX_CONCURRENT_HASHES"))
	}
	if c.MaxGroupMembers, err = strconv.Atoi(get("MESSENGER_MAX_GROUP_MEMBERS")); err != nil || c.MaxGroupMembers < 2 {
		return c, fmt.Errorf("MESSENGER_MAX_GROUP_MEMBERS: want a number of at least 2, got %q", get("MESSENGER_MAX_GROUP_MEMBERS"))
	}
	if c.ImageDecodes, err = strconv.Atoi(get("MESSENGER_IMAGE_DECODES")); err != nil || c.ImageDecodes < 1 {
		return c, fmt.Errorf("MESSENGER_IMAGE_DECODES: want a positive number, got %q", get("MESSENGER_IMAGE_DECODES"))
	}
	if c.EventsMaxLen, err = strconv.Atoi(get("MESSENGER_EVENTS_MAX_LEN")); err != nil || c.EventsMaxLen < 1 {
		return c, fmt.Errorf("MESSENGER_EVENTS_MAX_LEN: want a positive number of events, got %q", get("MESSENGER_EVENTS_MAX_LEN"))
	}
	if c.EventsMaxAge <= 0 {
		return c, fmt.Errorf("MESSENGER_EVENTS_MAX_AGE: want a positive duration, got %q", get("MESSENGER_EVENTS_MAX_AGE"))
	}
	if err := loadProductionConfig(&c, get); err != nil {
		return c, err
	}
	c.PublicURL = get("MESSENGER_PUBLIC_URL")
	c.S3Endpoint, c.S3Region = get("MESSENGER_S3_ENDPOINT"), get("MESSENGER_S3_REGION")
	c.S3AccessKey, c.S3SecretKey = get("MESSENGER_S3_ACCESS_KEY"), get("MESSENGER_S3_SECRET_KEY")
	if c.S3Endpoint != "" {
		c.S3Bucket = get("MESSENGER_S3_BUCKET")
	}
	c.OpenSearchURLs, c.OpenSearchPrefix = list(get("MESSENGER_OPENSEARCH_URL")), get("MESSENGER_OPENSEARCH_PREFIX")
	c.OpenSearchUser, c.OpenSearchPassword = get("MESSENGER_OPENSEARCH_USERNAME"), get("MESSENGER_OPENSEARCH_PASSWORD")
	if c.OpenSearchInsecure, err = strconv.ParseBool(get("MESSENGER_OPENSEARCH_INSECURE")); err != nil {
		return c, fmt.Errorf("MESSENGER_OPENSEARCH_INSECURE: %w", err)
	}
	c.OTLPEndpoint = get("MESSENGER_OTLP_ENDPOINT")
	if c.Migrate, err = strconv.ParseBool(get("MESSENGER_MIGRATE")); err != nil {
		return c, fmt.Errorf("MESSENGER_MIGRATE: %w", err)
	}
	if err := loadLinkPreviewConfig(&c, get); err != nil {
		return c, err
	}
	return c, nil
}

// parseBytes reads a size: a number of bytes, or one with the suffix KiB,
// MiB or GiB.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = strings.TrimSpace(n), m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
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

// parseReplication reads "3" (SimpleStrategy) or "dc1:3,dc2:3"
// (NetworkTopologyStrategy).
func parseReplication(v string) (int, map[string]int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 {
			return 0, nil, fmt.Errorf("replication factor %d must be at least 1", n)
		}
		return n, nil, nil
	}
	dcs := map[string]int{}
	for _, part := range list(v) {
		dc, n, ok := strings.Cut(part, ":")
		rf, err := strconv.Atoi(n)
		if !ok || dc == "" || err != nil || rf < 1 {
			return 0, nil, fmt.Errorf("%q is neither a number nor dc:factor pairs", v)
		}
		dcs[dc] = rf
	}
	return 0, dcs, nil
}
