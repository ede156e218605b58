package redislog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

var _ realtime.Log = (*Log)(nil)

// Log is the Redis Streams realtime.Log. It is safe for concurrent use.
type Log struct {
	cfg     Config
	shards  []*shard
	cluster bool
	name    string // CLIENT SETNAME of every connection of this Log

	mu     sync.Mutex
	locals map[string]*localUser // users with a subscriber here, by channel

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// localUser is a user with at least one subscriber on this instance.
type localUser struct {
	channel string
	lis     *listener // holds the channel's subscription
	subs    map[*sub]struct{}
	live    chan struct{} // closed once the channel's subscription is confirmed
	isLive  bool
}

// shard is one Redis (a node, or a whole cluster) and its read pipeline.
type shard struct {
	log   *Log
	name  string
	rdb   redis.UniversalClient
	node  *redis.Client        // single-node shards
	cc    *redis.ClusterClient // cluster mode
	reads chan *readReq

	pmu       sync.Mutex
	pending   map[string]*readReq // queued reads not yet sent, by tailKey
	recent    map[string]*readReq // the latest sent read, by tailKey
	recentCap int                 // sweep recent when it grows past this

	mu        sync.Mutex
	listeners map[string]*listener // by node address
}

// New connects to Redis as configured and checks that it answers.
func New(ctx context.Context, cfg Config) (*Log, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Log{
		cfg:     cfg,
		cluster: cfg.Cluster,
		name:    "messenger-rt-" + randomHex(6),
		locals:  map[string]*localUser{},
		done:    make(chan struct{}),
	}
	if cfg.Cluster {
		cc := redis.NewClusterClient(cfg.clusterOptions(l.name))
		for _, h := range cfg.Hooks {
			cc.AddHook(h)
		}
		l.shards = []*shard{l.newShard("cluster", cc, nil, cc)}
	} else {
		for _, addr := range cfg.Addrs {
			opt, err := cfg.nodeOptions(addr, l.name)
			if err != nil {
				l.closeClients()
				return nil, err
			}
			c := redis.NewClient(opt)
			for _, h := range cfg.Hooks {
				c.AddHook(h)
			}
			l.shards = append(l.shards, l.newShard(addr, c, c, nil))
		}
	}
	for _, s := range l.shards {
		if err := s.ping(ctx); err != nil {
			l.closeClients()
			return nil, fmt.Errorf("redislog: connect to %s: %w: %w", s.name, realtime.ErrUnavailable, err)
		}
	}
	for _, s := range l.shards {
		for range readWorkers {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				s.readLoop()
			}()
		}
	}
	return l, nil
}

func (l *Log) newShard(name string, rdb redis.UniversalClient, node *redis.Client, cc *redis.ClusterClient) *shard {
	return &shard{
		log: l, name: name, rdb: rdb, node: node, cc: cc,
		reads:     make(chan *readReq, readBatch*readWorkers),
		pending:   map[string]*readReq{},
		recent:    map[string]*readReq{},
		recentCap: maxRecent,
		listeners: map[string]*listener{},
	}
}

func (s *shard) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*s.log.cfg.Timeout)
	defer cancel()
	if s.cc != nil {
		return s.cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		})
	}
	return s.rdb.Ping(ctx).Err()
}

func (l *Log) shardOf(userID string) *shard { return pick(l.shards, userID) }

// Key names; the {u:<id>} hash tag puts all of a user's keys in one slot.
func (l *Log) streamKey(userID string) string { return l.cfg.KeyPrefix + "{u:" + userID + "}:events" }
func (l *Log) epochKey(userID string) string  { return l.cfg.KeyPrefix + "{u:" + userID + "}:epoch" }
func (l *Log) channel(userID string) string   { return l.cfg.KeyPrefix + "{u:" + userID + "}:wake" }

// Notices on a user's channel: a wake-up ("n"), or a signal ("s", the
// type's length as decimal, ":", the type, the data).
const wakeNotice = "n"

func signalNotice(e realtime.Event) string {
	return "s" + strconv.Itoa(len(e.Type)) + ":" + e.Type + string(e.Data)
}

func parseSignal(p string) (realtime.Event, bool) {
	n, rest, ok := cutByte(p[1:], ':')
	if !ok {
		return realtime.Event{}, false
	}
	size, err := strconv.Atoi(n)
	if err != nil || size < 0 || size > len(rest) {
		return realtime.Event{}, false
	}
	return realtime.Event{Type: rest[:size], Data: []byte(rest[size:])}, true
}

func cutByte(s string, b byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// byShard groups user ids by the shard that holds them.
func (l *Log) byShard(userIDs []string) map[*shard][]string {
	m := map[*shard][]string{}
	for _, u := range userIDs {
		s := l.shardOf(u)
		m[s] = append(m[s], u)
	}
	return m
}

// onShards runs fn for every shard's users, concurrently when there are
// several, and joins the errors.
func (l *Log) onShards(userIDs []string, fn func(s *shard, users []string) error) error {
	groups := l.byShard(userIDs)
	if len(groups) == 1 {
		for s, users := range groups {
			return fn(s, users)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for s, users := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(s, users); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (l *Log) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// unavailable wraps a Redis failure; a caller's own cancellation stays as it is.
func unavailable(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("redislog: %s: %w: %w", what, realtime.ErrUnavailable, err)
}

// Append implements realtime.Log: per shard, one pipeline of XADD and a
// wake-up notice for every recipient. On error some recipients may have the
// event already; the caller's retry then delivers it to them twice.
func (l *Log) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.closed() {
		return fmt.Errorf("redislog: append: %w: log closed", realtime.ErrUnavailable)
	}
	if len(userIDs) == 0 {
		return nil
	}
	values := entryValues(e)
	var minID string
	if mrand.IntN(ageTrimOneIn) == 0 {
		minID = strconv.FormatInt(time.Now().Add(-l.cfg.MaxAge).UnixMilli(), 10)
	}
	return l.onShards(userIDs, func(s *shard, users []string) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range users {
				key := l.streamKey(u)
				p.XAdd(ctx, &redis.XAddArgs{
					Stream: key,
					MaxLen: l.cfg.MaxLen,
					Approx: l.cfg.MaxLen >= approxFrom,
					Values: values,
				})
				if minID != "" {
					p.XTrimMinIDApprox(ctx, key, minID, 0)
				}
				l.publish(ctx, p, l.channel(u), wakeNotice)
			}
			return nil
		})
		if err != nil {
			return unavailable(ctx, fmt.Sprintf("append to %d streams on %s", len(users), s.name), err)
		}
		return nil
	})
}

// entryValues is e as the fields of a stream entry.
func entryValues(e realtime.Event) []any {
	values := []any{"t", e.Type, "d", e.Data}
	if e.ID != "" {
		values = append([]any{"i", e.ID}, values...)
	}
	return values
}

// AppendAt implements realtime.Log: the XADD runs in one transaction with
// the epoch (created if the stream has none yet, as a subscription does)
// and XINFO STREAM, whose entries-added is the new entry's ordinal; the
// wake-up notice follows (a lost notice costs a poll interval).
func (l *Log) AppendAt(ctx context.Context, userID string, e realtime.Event) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if l.closed() {
		return "", fmt.Errorf("redislog: append: %w: log closed", realtime.ErrUnavailable)
	}
	s := l.shardOf(userID)
	key := l.streamKey(userID)
	var (
		get  *redis.StringCmd
		add  *redis.StringCmd
		info *redis.XInfoStreamCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, l.epochKey(userID), newEpoch(), 0)
		get = p.Get(ctx, l.epochKey(userID))
		add = p.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: l.cfg.MaxLen, Approx: l.cfg.MaxLen >= approxFrom, Values: entryValues(e)})
		info = p.XInfoStream(ctx, key)
		return nil
	})
	if err != nil {
		return "", unavailable(ctx, "append to "+key, err)
	}
	id, ok := parseID(add.Val())
	st, err := stateOf(info)
	if err != nil || !ok {
		return "", unavailable(ctx, "append to "+key, fmt.Errorf("entry %q: %v", add.Val(), err))
	}
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		l.publish(ctx, p, l.channel(userID), wakeNotice)
		return nil
	})
	return cursor(get.Val(), position{id: id, ord: st.added}), nil
}

// publish queues a notice: sharded pub/sub in a cluster (it stays on the
// node of the channel's slot), plain pub/sub on a single node.
func (l *Log) publish(ctx context.Context, p redis.Pipeliner, channel, msg string) {
	if l.cluster {
		p.SPublish(ctx, channel, msg)
	} else {
		p.Publish(ctx, channel, msg)
	}
}

// Signal implements realtime.Log: one PUBLISH per user, pipelined per
// shard; Redis delivers it to the instances subscribed to the user.
func (l *Log) Signal(ctx context.Context, userIDs []string, e realtime.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.closed() {
		return fmt.Errorf("redislog: signal: %w: log closed", realtime.ErrUnavailable)
	}
	if len(userIDs) == 0 {
		return nil
	}
	msg := signalNotice(e)
	return l.onShards(userIDs, func(s *shard, users []string) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range users {
				l.publish(ctx, p, l.channel(u), msg)
			}
			return nil
		})
		if err != nil {
			return unavailable(ctx, fmt.Sprintf("signal %d users on %s", len(users), s.name), err)
		}
		return nil
	})
}

// Close implements realtime.Log: open subscriptions end with
// ErrUnavailable, then the connections close.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		var all []*listener
		for _, s := range l.shards {
			s.mu.Lock()
			for _, lis := range s.listeners {
				all = append(all, lis)
			}
			s.mu.Unlock()
		}
		for _, lis := range all {
			lis.close()
		}
		l.wg.Wait()
		l.closeClients()
	})
	return nil
}

func (l *Log) closeClients() {
	for _, s := range l.shards {
		_ = s.rdb.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
