package adversary

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// embedded is the configuration of an instance on its embedded defaults
// (Pebble, bleve, the in-process event log, blobs in the data directory).
func embedded(extra ...string) []string {
	return append([]string{"MESSENGER_SEARCH_FLUSH=100ms", "MESSENGER_CLIENT_IP_HEADER=X-Real-IP"}, extra...)
}

// servers returns the test run's Cassandra hosts and Redis addresses, or
// skips t when they are not configured.
func servers(t *testing.T) (cassandra, redis string) {
	t.Helper()
	cassandra, redis = os.Getenv("MESSENGER_CASSANDRA_HOSTS"), os.Getenv("MESSENGER_REDIS_ADDRS")
	if cassandra == "" || redis == "" {
		t.Skip("MESSENGER_CASSANDRA_HOSTS and MESSENGER_REDIS_ADDRS are unset (source /work/services.env or run make test): no Cassandra + Redis to run against")
	}
	return cassandra, redis
}

// distributedEnv is the configuration of an instance on Cassandra (in
// keyspace) and Redis; blobs and search stay in the data directory.
func distributedEnv(cassandra, redis, keyspace string, extra ...string) []string {
	env := []string{
		"MESSENGER_CASSANDRA_HOSTS=" + cassandra, "MESSENGER_REDIS_ADDRS=" + redis,
		"MESSENGER_CASSANDRA_KEYSPACE=" + keyspace, "MESSENGER_SEARCH_FLUSH=100ms",
		// Rate-limit buckets live in the shared Redis: each caller's own.
		"MESSENGER_CLIENT_IP_HEADER=X-Real-IP",
	}
	return append(env, extra...)
}

// distributed is the configuration of an instance on the test run's
// Cassandra (in a keyspace of the test's own, dropped when t ends) and
// Redis, or skips t when they are not configured.
func distributed(t *testing.T, extra ...string) []string {
	t.Helper()
	cassandra, redis := servers(t)
	keyspace := "adv_" + randomHex(6)
	t.Cleanup(func() { dropKeyspace(t.Logf, cassandra, keyspace) })
	return distributedEnv(cassandra, redis, keyspace, extra...)
}

// The shared instance serves every case that needs no restart: embedded,
// default limits, a known signing key (to mint tokens), and the client's
// IP taken from X-Real-IP so each case gets rate-limit buckets of its own.
var (
	sharedOnce sync.Once
	sharedInst *instance
	sharedErr  error
)

// sharedSecret is the shared instance's MESSENGER_JWT_SECRET.
const sharedSecret = "adversary-signing-key-known-to-the-tests-0123456789"

// shared returns the shared instance, starting it on first use. A test that
// fails gets the instance's output since the test began.
func shared(t *testing.T) *instance {
	t.Helper()
	bin := apiBinary(t)
	sharedOnce.Do(func() {
		var dir string
		if dir, sharedErr = os.MkdirTemp(workDir, "shared-"); sharedErr != nil {
			return
		}
		sharedInst, sharedErr = newInstance("shared", bin, dir, embedded("MESSENGER_JWT_SECRET="+sharedSecret))
		if sharedErr == nil {
			sharedErr = sharedInst.start(30 * time.Second)
		}
	})
	if sharedErr != nil {
		out := ""
		if sharedInst != nil {
			out = sharedInst.log.since(0)
		}
		t.Fatalf("shared instance: %v\n%s", sharedErr, out)
	}
	mark := sharedInst.log.len()
	t.Cleanup(func() {
		if out := sharedInst.log.since(mark); t.Failed() && out != "" {
			t.Logf("output of the shared instance during %s:\n%s", t.Name(), out)
		}
	})
	return sharedInst
}

// The shared fleet is two instances on one Cassandra keyspace and Redis,
// for the cases that must hold across instances.
var (
	fleetOnce     sync.Once
	fleetInst     []*instance
	fleetErr      error
	fleetKeyspace string
	fleetHosts    string
)

// fleet returns the shared fleet, starting it on first use, or skips t
// without Cassandra and Redis.
func fleet(t *testing.T) []*instance {
	t.Helper()
	cassandra, redis := servers(t)
	bin := apiBinary(t)
	fleetOnce.Do(func() {
		fleetHosts, fleetKeyspace = cassandra, "adv_"+randomHex(6)
		env := distributedEnv(cassandra, redis, fleetKeyspace, "MESSENGER_JWT_SECRET="+sharedSecret)
		for _, name := range []string{"fleet-a", "fleet-b"} {
			var dir string
			if dir, fleetErr = os.MkdirTemp(workDir, name+"-"); fleetErr != nil {
				return
			}
			in, err := newInstance(name, bin, dir, env)
			if err == nil {
				fleetInst = append(fleetInst, in)
				err = in.start(90 * time.Second)
			}
			if fleetErr = err; err != nil {
				return
			}
		}
	})
	if fleetErr != nil {
		var out strings.Builder
		for _, in := range fleetInst {
			out.WriteString(in.log.since(0))
		}
		t.Fatalf("shared fleet: %v\n%s", fleetErr, out.String())
	}
	marks := make([]int, len(fleetInst))
	for i, in := range fleetInst {
		marks[i] = in.log.len()
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, in := range fleetInst {
				if out := in.log.since(marks[i]); out != "" {
					t.Logf("output of %s during %s:\n%s", in.name, t.Name(), out)
				}
			}
		}
	})
	return fleetInst
}

func stopShared() {
	if sharedInst != nil {
		sharedInst.signal(syscall.SIGTERM, 20*time.Second)
	}
	for _, in := range fleetInst {
		in.signal(syscall.SIGTERM, 20*time.Second)
	}
	if fleetKeyspace != "" {
		dropKeyspace(func(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...) }, fleetHosts, fleetKeyspace)
	}
}
