package observe

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// RedisHook times a go-redis client's commands (backend "redis", op the
// command's name, "pipeline" for a pipeline or transaction, "dial" for a
// new connection): add it with client.AddHook.
func (o *Observer) RedisHook() redis.Hook { return redisHook{o: o} }

type redisHook struct{ o *Observer }

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, c := h.o.begin(ctx, "redis", "dial")
		conn, err := next(ctx, network, addr)
		c.end(err)
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := commandLabel(cmd.Name())
		ctx, c := h.o.begin(ctx, "redis", op)
		if c.span != nil {
			c.span.SetAttributes(semconv.DBSystemNameRedis, semconv.DBOperationName(op))
		}
		err := next(ctx, cmd)
		c.end(tolerated(op, err))
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		op := "pipeline"
		if len(cmds) > 0 && !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !handshake(c.Name()) }) {
			op = "handshake"
		}
		ctx, c := h.o.begin(ctx, "redis", op)
		if c.span != nil {
			c.span.SetAttributes(semconv.DBSystemNameRedis, attribute.Int("db.operation.batch.size", len(cmds)))
		}
		err := next(ctx, cmds)
		if op == "handshake" {
			err = tolerated("client", err)
		}
		c.end(err)
		return err
	}
}

// handshake names the commands go-redis sends on a new connection.
func handshake(name string) bool {
	switch strings.ToLower(name) {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// tolerated drops the error Redis answers to a handshake command it does
// not know (CLIENT SETINFO before Redis 7.2, HELLO on old servers), and
// NOSCRIPT to an EVALSHA of a script it has not cached yet: go-redis
// carries on without the first and sends the script with EVAL after the
// second, so neither is a failure.
func tolerated(op string, err error) error {
	var reply redis.Error
	switch {
	case handshake(op) && errors.As(err, &reply):
		return nil
	case op == "evalsha" && errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "NOSCRIPT"):
		return nil
	}
	return err
}

// commandLabel bounds the op label: command names are chosen by the
// code, but anything odd becomes "other".
func commandLabel(name string) string {
	name = strings.ToLower(name)
	if name == "" || len(name) > 24 {
		return "other"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '.') {
			return "other"
		}
	}
	return name
}
