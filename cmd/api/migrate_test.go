package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/cql"
)

// migrateEnv points loadConfig (through the environment) and API processes
// at the run's Cassandra and OpenSearch, in a fresh keyspace and index
// prefix that are dropped at the end, or skips.
func migrateEnv(t *testing.T) (keyspace, prefix string, env []string) {
	t.Helper()
	hosts, osURL := os.Getenv("MESSENGER_CASSANDRA_HOSTS"), os.Getenv("MESSENGER_OPENSEARCH_URL")
	if hosts == "" || osURL == "" {
		t.Skip("set MESSENGER_CASSANDRA_HOSTS and MESSENGER_OPENSEARCH_URL (make test does) to migrate real servers")
	}
	n := rand.Int64N(1e12)
	keyspace, prefix = fmt.Sprintf("migrate_%d", n), fmt.Sprintf("migrate-%d-", n)
	env = []string{"MESSENGER_CASSANDRA_KEYSPACE=" + keyspace, "MESSENGER_OPENSEARCH_PREFIX=" + prefix,
		"MESSENGER_REDIS_ADDRS=", "MESSENGER_S3_ENDPOINT="}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if s, err := cql.OpenUnbound(ctx, cql.Config{Hosts: strings.Split(hosts, ",")}); err == nil {
			s.Query("DROP KEYSPACE IF EXISTS " + keyspace).WithContext(ctx).Exec()
			s.Close()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, strings.Split(osURL, ",")[0]+"/"+prefix+"*", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return keyspace, prefix, env
}

// An operator's path: look at what would change (nothing changes), see an
// instance refuse to start unmigrated with MESSENGER_MIGRATE=false,
// migrate, then run instances that never touch the schema.
func TestDryRunChangesNothingAndMigratedInstancesStartWithoutMigrating(t *testing.T) {
	keyspace, prefix, env := migrateEnv(t)
	cfg, err := loadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var out bytes.Buffer
	if err := migrate([]string{"--dry-run"}, &out); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"missing: CREATE KEYSPACE IF NOT EXISTS " + keyspace, "pending: 001_init.cql", "CREATE TABLE IF NOT EXISTS",
		"missing media tables", "opensearch alias " + prefix + "messages: missing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	p, err := planMigration(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.cassandra.KeyspaceExists || len(p.cassandra.Applied) > 0 || len(p.opensearch) != 2 || len(p.opensearch[0].indices) > 0 {
		t.Fatalf("the dry run changed something: keyspace exists %v, applied %d, aliases %+v", p.cassandra.KeyspaceExists, len(p.cassandra.Applied), p.opensearch)
	}

	bin := buildBinary(t)
	instanceEnv := append([]string{"MESSENGER_MIGRATE=false", "MESSENGER_JWT_SECRET=" + strings.Repeat("migrate-secret-", 3)}, env...)
	refused := exec.Command(bin)
	refused.Env = append(append(os.Environ(), "MESSENGER_HTTP_ADDR=127.0.0.1:0", "MESSENGER_DATA_DIR="+t.TempDir()), instanceEnv...)
	msg, err := refused.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "run `api migrate`") {
		t.Fatalf("an unmigrated instance with MESSENGER_MIGRATE=false: err %v, output:\n%s", err, msg)
	}
	if p, _ := planMigration(ctx, cfg); p.cassandra.KeyspaceExists {
		t.Fatal("the refused instance created the keyspace")
	}

	out.Reset()
	if err := migrate(nil, &out); err != nil || !strings.Contains(out.String(), "migrated: up to date") {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := migrate(nil, &out); err != nil || strings.Contains(out.String(), "pending") || strings.Contains(out.String(), "missing") {
		t.Fatalf("a second migrate should find nothing to do: %v\n%s", err, out.String())
	}

	url, _ := startBinary(t, bin, t.TempDir(), instanceEnv...)
	alice := apitest.SignUp(t, url, "alice")
	var me struct{ Me struct{ Username string } }
	alice.Must(t, `query Me { me { username } }`, nil, &me)
	if !strings.HasPrefix(me.Me.Username, "alice") {
		t.Fatalf("me = %+v", me.Me)
	}
}

func TestMigrateWithoutServersSaysThereIsNothingToMigrate(t *testing.T) {
	for _, k := range []string{"MESSENGER_CASSANDRA_HOSTS", "MESSENGER_OPENSEARCH_URL"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	if err := migrate([]string{"--dry-run", "-data-dir", t.TempDir()}, &out); err != nil || !strings.Contains(out.String(), "nothing to migrate") {
		t.Fatalf("embedded dry run: %v\n%s", err, out.String())
	}
}
