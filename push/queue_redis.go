package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisQueueConfig configures a RedisQueue.
type RedisQueueConfig struct {
	// Client is the Redis (or Redis Cluster) client. Required.
	Client redis.UniversalClient
	// Prefix starts every key (default "push"); tests use their own.
	Prefix string
	// Consumer names this instance in the consumer group (default:
	// hostname, pid and random bits).
	Consumer string
	// Lease is how long a claimed job stays with its consumer before
	// another may take it over (default DefaultLease).
	Lease time.Duration
}

// RedisQueue is the fleet's Queue: one Redis stream read by the consumer
// group "push", so each entry goes to one instance; entries a dead
// instance held are taken over (XAUTOCLAIM) after the lease. Delayed
// retries wait in a sorted set and move to the stream when due. The
// stream and the set share one hash slot ({prefix}), so a Redis Cluster
// can move them together in one script.
type RedisQueue struct {
	rdb                     redis.UniversalClient
	stream, delayed, sentPf string
	consumer                string
	lease                   time.Duration
}

var _ Queue = (*RedisQueue)(nil)

const redisGroup = "push"

// promote moves due retries from the delay set to the stream.
var promote = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, v in ipairs(due) do
  redis.call('XADD', KEYS[1], '*', 'j', string.sub(v, 18))
  redis.call('ZREM', KEYS[2], v)
end
return #due`)

// NewRedisQueue returns the queue, creating its consumer group if needed.
func NewRedisQueue(ctx context.Context, cfg RedisQueueConfig) (*RedisQueue, error) {
	if cfg.Client == nil {
		return nil, errors.New("push: RedisQueue needs a client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "push"
	}
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		cfg.Consumer = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), nonce())
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	slot := "{" + cfg.Prefix + "}"
	q := &RedisQueue{rdb: cfg.Client, stream: slot + ":q", delayed: slot + ":delayed", sentPf: cfg.Prefix + ":sent:",
		consumer: cfg.Consumer, lease: cfg.Lease}
	err := q.rdb.XGroupCreateMkStream(ctx, q.stream, redisGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return nil, fmt.Errorf("push: create consumer group: %w", err)
	}
	return q, nil
}

// nonce is 16 hex characters of randomness.
func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Enqueue implements Queue: one XADD per job, pipelined.
func (q *RedisQueue) Enqueue(ctx context.Context, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, j := range jobs {
			v, err := json.Marshal(j)
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: q.stream, Values: []any{"j", v}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("push: enqueue: %w", err)
	}
	return nil
}

// Claim implements Queue: due retries are promoted, entries whose
// consumer went silent for a lease are taken over, then new entries read.
func (q *RedisQueue) Claim(ctx context.Context, n int, wait time.Duration) ([]Leased, error) {
	if err := promote.Run(ctx, q.rdb, []string{q.stream, q.delayed}, time.Now().UnixMilli(), n).Err(); err != nil {
		return nil, fmt.Errorf("push: promote retries: %w", err)
	}
	stale, _, err := q.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q.stream, Group: redisGroup, Consumer: q.consumer, MinIdle: q.lease, Start: "0-0", Count: int64(n),
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("push: take over stale jobs: %w", err)
	}
	out := q.decode(stale)
	if len(out) >= n {
		return out, nil
	}
	block := wait
	if len(out) > 0 || block <= 0 {
		block = -1 // do not block: XREADGROUP without BLOCK
	}
	res, err := q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: redisGroup, Consumer: q.consumer, Streams: []string{q.stream, ">"}, Count: int64(n - len(out)), Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("push: claim: %w", err)
	}
	for _, s := range res {
		out = append(out, q.decode(s.Messages)...)
	}
	return out, nil
}

func (q *RedisQueue) decode(ms []redis.XMessage) []Leased {
	out := make([]Leased, 0, len(ms))
	for _, m := range ms {
		var j Job
		v, _ := m.Values["j"].(string)
		if err := json.Unmarshal([]byte(v), &j); err != nil {
			// Unreadable: drop it rather than redeliver it forever.
			q.rdb.XAck(context.Background(), q.stream, redisGroup, m.ID)
			continue
		}
		out = append(out, Leased{ID: m.ID, Job: j})
	}
	return out
}

// Ack implements Queue.
func (q *RedisQueue) Ack(ctx context.Context, l Leased) error {
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, q.stream, redisGroup, l.ID)
		p.XDel(ctx, q.stream, l.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("push: ack: %w", err)
	}
	return nil
}

// Retry implements Queue: the entry leaves the stream and waits in the
// delay set, in one transaction.
func (q *RedisQueue) Retry(ctx context.Context, l Leased, next Job, at time.Time) error {
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, q.delayed, redis.Z{Score: float64(at.UnixMilli()), Member: nonce() + ":" + string(v)})
		p.XAck(ctx, q.stream, redisGroup, l.ID)
		p.XDel(ctx, q.stream, l.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("push: retry: %w", err)
	}
	return nil
}

// Depth implements Queue.
func (q *RedisQueue) Depth(ctx context.Context) (int64, error) {
	var xl, zc *redis.IntCmd
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		xl = p.XLen(ctx, q.stream)
		zc = p.ZCard(ctx, q.delayed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("push: depth: %w", err)
	}
	return xl.Val() + zc.Val(), nil
}

// Begin implements Queue: SET NX with the lease as expiry.
func (q *RedisQueue) Begin(ctx context.Context, key string) (bool, error) {
	ok, err := q.rdb.SetNX(ctx, q.sentPf+key, "sending", q.lease).Result()
	if err != nil {
		return false, fmt.Errorf("push: begin %s: %w", key, err)
	}
	return ok, nil
}

// Finish implements Queue.
func (q *RedisQueue) Finish(ctx context.Context, key string, sent bool) error {
	if sent {
		return q.rdb.Set(ctx, q.sentPf+key, "sent", sentTTL).Err()
	}
	return q.rdb.Del(ctx, q.sentPf+key).Err()
}

// WasSent implements Queue.
func (q *RedisQueue) WasSent(ctx context.Context, key string) (bool, error) {
	v, err := q.rdb.Get(ctx, q.sentPf+key).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return v == "sent", err
}
