package redislog

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config configures the Redis log. Zero values are the defaults.
type Config struct {
	// Addrs are the Redis nodes, "host:port" or a redis:// URL (whose
	// database number and password override DB and Password for that node).
	// One address is a single Redis; several are shards, the user id picking
	// the node by rendezvous hashing, so adding a node moves only the users
	// it takes (their old cursors then expire). With Cluster they are seed
	// nodes of one Redis Cluster. Default: 127.0.0.1:6379.
	Addrs []string
	// Cluster: Addrs seed a Redis Cluster.
	Cluster bool
	// Password for every node (none by default).
	Password string
	// DB is the database number (0 by default; not used with Cluster).
	DB int
	// KeyPrefix starts every key and channel name (default "rt:"). It may not
	// contain braces: keys carry their own hash tag.
	KeyPrefix string
	// MaxLen is how many entries each user's stream keeps at least (default
	// 1000); see the package comment for when trimming is approximate.
	MaxLen int64
	// MaxAge is how long an entry is kept at least (default 1 h); older
	// entries are trimmed by later appends to the same stream.
	MaxAge time.Duration
	// PoolSize is the number of command connections per Redis node (default
	// 10); each instance adds one pub/sub connection per node.
	PoolSize int
	// Timeout bounds dialing, each read and write, and waiting for a pooled
	// connection (default 1 s).
	Timeout time.Duration
	// SlowAfter is how long a subscriber may leave an event refused before
	// it is dropped with ErrSlowConsumer (default 5 s).
	SlowAfter time.Duration
	// PollInterval is how often an idle subscriber reads its stream even
	// without a notice (default 5 s, jittered): the bound on the delay a
	// lost notice can cause.
	PollInterval time.Duration
	// OutageGrace is how long a subscriber's reads may keep failing before it
	// ends with ErrUnavailable (default 2 s).
	OutageGrace time.Duration
	// ReadCount is the most entries one read fetches (default 100).
	ReadCount int64
	// Hooks are added to every Redis client of the log (metrics, tracing).
	Hooks []redis.Hook
}

const (
	readWorkers = 4   // pipelines of reads in flight per shard
	readBatch   = 256 // reads per pipeline
	// approxFrom: MaxLen from which trimming is approximate; below, the
	// slack of one radix node (100 entries) would dwarf the limit.
	approxFrom = 1000
	// ageTrimOneIn: one append in this many also trims by age.
	ageTrimOneIn = 16
)

func (c Config) withDefaults() (Config, error) {
	if len(c.Addrs) == 0 {
		c.Addrs = []string{"127.0.0.1:6379"}
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "rt:"
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		return c, fmt.Errorf("redislog: KeyPrefix %q contains a brace", c.KeyPrefix)
	}
	if c.MaxLen <= 0 {
		c.MaxLen = 1000
	}
	if c.MaxAge <= 0 {
		c.MaxAge = time.Hour
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 10
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.SlowAfter <= 0 {
		c.SlowAfter = 5 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.OutageGrace <= 0 {
		c.OutageGrace = 2 * time.Second
	}
	if c.ReadCount <= 0 {
		c.ReadCount = 100
	}
	return c, nil
}

// nodeOptions are the go-redis options of one node (or, via clusterOptions,
// of every cluster node): a small capped pool, bounded timeouts, no retries
// (a retried XADD could duplicate an event), no handshake extras that Redis
// 7.0 does not know.
func (c Config) nodeOptions(addr, name string) (*redis.Options, error) {
	opt := &redis.Options{Addr: addr, Password: c.Password, DB: c.DB}
	if strings.Contains(addr, "://") {
		u, err := redis.ParseURL(addr)
		if err != nil {
			return nil, fmt.Errorf("redislog: address %q: %w", addr, err)
		}
		opt = u
		if opt.Password == "" {
			opt.Password = c.Password
		}
	}
	opt.ClientName = name
	opt.PoolSize = c.PoolSize
	opt.MaxActiveConns = c.PoolSize
	opt.PipelinePoolSize = -1 // pipelines share the capped pool
	opt.DialTimeout = c.Timeout
	opt.DialerRetries = 1 // our callers retry; an outage should fail fast
	opt.ReadTimeout = c.Timeout
	opt.WriteTimeout = c.Timeout
	opt.PoolTimeout = c.Timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return opt, nil
}

func (c Config) clusterOptions(name string) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                    c.Addrs,
		Password:                 c.Password,
		ClientName:               name,
		PoolSize:                 c.PoolSize,
		MaxActiveConns:           c.PoolSize,
		PipelinePoolSize:         -1,
		DialTimeout:              c.Timeout,
		DialerRetries:            1,
		ReadTimeout:              c.Timeout,
		WriteTimeout:             c.Timeout,
		PoolTimeout:              c.Timeout,
		ContextTimeoutEnabled:    true,
		MaxRetries:               -1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// pick chooses the shard of userID by rendezvous (highest random weight)
// hashing: every instance agrees without coordination, and adding a shard
// moves only the users whose new highest weight is on it.
func pick(shards []*shard, userID string) *shard {
	if len(shards) == 1 {
		return shards[0]
	}
	var best *shard
	var bestW uint64
	for _, s := range shards {
		h := fnv.New64a()
		h.Write([]byte(s.name))
		h.Write([]byte{0})
		h.Write([]byte(userID))
		w := mix(h.Sum64())
		if best == nil || w > bestW {
			best, bestW = s, w
		}
	}
	return best
}

// mix is a 64-bit finalizer (splitmix64): FNV's low bits alone spread
// poorly between similar names.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
