package redislog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

// appendOnceScript adds an entry to a user's stream unless an entry with the
// same event id was added at or after a time. It runs atomically on the
// node that holds the stream, so two replays of one event add it once.
//
//	KEYS[1]  the stream
//	ARGV     event id, since (ms), MAXLEN, "~" or "=", type, data
//
// Returns 1 when it added the entry, 0 when the stream already had it.
const appendOnceScript = `
local entries = redis.call('XRANGE', KEYS[1], ARGV[2], '+')
for _, e in ipairs(entries) do
  local f = e[2]
  for i = 1, #f, 2 do
    if f[i] == 'i' and f[i + 1] == ARGV[1] then return 0 end
  end
end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], ARGV[3], '*', 'i', ARGV[1], 't', ARGV[5], 'd', ARGV[6])
return 1
`

// AppendOnce implements realtime.Log: per shard, one pipeline holding, for
// every recipient, the check-and-add script and a wake-up notice. The
// script reads the entries added since `since`, at most MaxLen of them: a
// replay costs more than an append, and only a replay pays it.
func (l *Log) AppendOnce(ctx context.Context, userIDs []string, e realtime.Event, since time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		return errors.New("redislog: AppendOnce needs an event id")
	}
	if l.closed() {
		return fmt.Errorf("redislog: append once: %w: log closed", realtime.ErrUnavailable)
	}
	if len(userIDs) == 0 {
		return nil
	}
	trim := "="
	if l.cfg.MaxLen >= approxFrom {
		trim = "~"
	}
	args := []any{e.ID, strconv.FormatInt(since.UnixMilli(), 10), l.cfg.MaxLen, trim, e.Type, e.Data}
	return l.onShards(userIDs, func(s *shard, users []string) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range users {
				p.Eval(ctx, appendOnceScript, []string{l.streamKey(u)}, args...)
				l.publish(ctx, p, l.channel(u), wakeNotice)
			}
			return nil
		})
		if err != nil {
			return unavailable(ctx, fmt.Sprintf("replay to %d streams on %s", len(users), s.name), err)
		}
		return nil
	})
}
