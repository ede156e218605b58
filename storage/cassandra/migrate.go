package cassandra

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
)

//go:embed migrations/*.cql
var migrationFiles embed.FS

// migration is one embedded CQL file, named NNN_what.cql; NNN is its version.
type migration struct {
	version    int
	name       string
	statements []string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.cql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, path := range names {
		base := strings.TrimPrefix(path, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("cassandra: migration %s: name must be NNN_what.cql", base)
		}
		text, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: base, statements: cql.Statements(string(text))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("cassandra: migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// leaseTTL bounds how long a migrator that died (kill -9 mid-migration)
// keeps every other start waiting. The lease is renewed before each
// statement, so it must only outlast the slowest single DDL statement
// (a few seconds on a loaded node), not the whole migration.
const leaseTTL = 30 * time.Second

// migrate applies the embedded migrations that schema_version does not list.
//
// Safe from several instances at once: DDL runs only under a lease, an LWT
// claim (INSERT ... IF NOT EXISTS USING TTL) on schema_lock, so two instances
// never issue schema changes concurrently (concurrent DDL on different
// coordinators is what Cassandra handles worst). Every migration statement is
// also idempotent (IF NOT EXISTS), so when a lease holder dies half-way its
// lease expires and the next holder reruns the whole file. The two
// bootstrap tables, which every instance creates before any lease can
// exist, get table ids derived from their names, so concurrent creators
// agree on one table.
func (s *Store) migrate(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	ks := s.keyspace
	for _, stmt := range []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS schema_version (
			version int PRIMARY KEY, name text, applied_at timestamp, applied_by text
		) WITH id = %s`, tableID(ks, "schema_version")),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS schema_lock (
			name text PRIMARY KEY, owner text, since timestamp
		) WITH id = %s`, tableID(ks, "schema_lock")),
	} {
		if err := cql.ExecSchema(ctx, s.session, stmt); err != nil {
			return wrap(err, "migrate: create bootstrap table")
		}
	}
	owner := ownerID()
	for {
		pending, err := s.pendingMigrations(ctx, migrations)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		got, err := s.acquireLease(ctx, owner)
		if err != nil {
			return err
		}
		if !got {
			// Another instance is migrating: wait for it, then look again.
			select {
			case <-ctx.Done():
				return wrap(ctx.Err(), "migrate: wait for another instance's schema lease")
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		err = s.applyMigrations(ctx, owner, pending)
		s.releaseLease(owner)
		if err != nil {
			return err
		}
	}
}

func (s *Store) pendingMigrations(ctx context.Context, all []migration) ([]migration, error) {
	applied := map[int]bool{}
	iter := s.query(ctx, "SELECT version FROM schema_version").Iter()
	var v int
	for iter.Scan(&v) {
		applied[v] = true
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "migrate: read schema_version")
	}
	var pending []migration
	for _, m := range all {
		if !applied[m.version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

func (s *Store) acquireLease(ctx context.Context, owner string) (bool, error) {
	applied, err := s.lwt(ctx, "INSERT INTO schema_lock (name, owner, since) VALUES ('migrate', ?, ?) IF NOT EXISTS USING TTL ?",
		owner, time.Now(), int(leaseTTL.Seconds())).MapScanCAS(map[string]any{})
	if err != nil {
		return false, wrap(err, "migrate: take schema lease")
	}
	return applied, nil
}

func (s *Store) renewLease(ctx context.Context, owner string) error {
	applied, err := s.lwt(ctx, "UPDATE schema_lock USING TTL ? SET owner = ? WHERE name = 'migrate' IF owner = ?",
		int(leaseTTL.Seconds()), owner, owner).MapScanCAS(map[string]any{})
	if err != nil {
		return wrap(err, "migrate: renew schema lease")
	}
	if !applied {
		return fmt.Errorf("cassandra: migrate: lost the schema lease (a statement took longer than %s)", leaseTTL)
	}
	return nil
}

func (s *Store) releaseLease(owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Best effort: if this fails the lease simply expires.
	_, _ = s.lwt(ctx, "DELETE FROM schema_lock WHERE name = 'migrate' IF owner = ?", owner).MapScanCAS(map[string]any{})
}

func (s *Store) applyMigrations(ctx context.Context, owner string, pending []migration) error {
	for _, m := range pending {
		for i, stmt := range m.statements {
			if err := s.renewLease(ctx, owner); err != nil {
				return err
			}
			// DDL: the driver waits for schema agreement before returning.
			// Every statement is idempotent (IF NOT EXISTS), so one that
			// timed out on a busy node is run again (cql.ExecSchema).
			if err := cql.ExecSchema(ctx, s.session, stmt); err != nil {
				return wrap(err, "migrate: %s statement %d", m.name, i+1)
			}
		}
		if err := s.query(ctx, "INSERT INTO schema_version (version, name, applied_at, applied_by) VALUES (?, ?, ?, ?)",
			m.version, m.name, time.Now(), owner).Exec(); err != nil {
			return wrap(err, "migrate: record %s", m.name)
		}
	}
	return nil
}

// tableID derives a stable table id from the keyspace and table names
// (see cql.TableID).
func tableID(keyspace, table string) string {
	return cql.TableID("messenger.cassandra", keyspace, table)
}

func ownerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), gocql.MustRandomUUID())
}
