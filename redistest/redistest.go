// Package redistest connects tests to the test run's real Redis
// (MESSENGER_REDIS_ADDRS, set by make test and scripts/services.sh env),
// or skips them when none is configured.
package redistest

import (
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Addrs is MESSENGER_REDIS_ADDRS ("host:port,..."); it skips tb when unset.
func Addrs(tb testing.TB) string {
	tb.Helper()
	addrs := os.Getenv("MESSENGER_REDIS_ADDRS")
	if addrs == "" {
		tb.Skip("set MESSENGER_REDIS_ADDRS (make test does) to run against a real Redis")
	}
	return addrs
}

// First is the first address of Addrs.
func First(tb testing.TB) string {
	tb.Helper()
	first, _, _ := strings.Cut(Addrs(tb), ",")
	return strings.TrimSpace(first)
}

// Client is a client of that Redis (a cluster client when
// MESSENGER_REDIS_CLUSTER=true), closed when tb ends.
func Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	addrs := Addrs(tb)
	var c redis.UniversalClient = redis.NewClient(&redis.Options{Addr: First(tb)})
	if os.Getenv("MESSENGER_REDIS_CLUSTER") == "true" {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
