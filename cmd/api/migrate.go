package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"messenger/cql"
	mediacql "messenger/media/cassandra"
	"messenger/storage/cassandra"
)

// runMigrate is `api migrate [--dry-run] [flags]`: it brings the
// configured Cassandra keyspace (the chat store's migrations and the media
// tables) and OpenSearch indices and aliases up to what this binary needs,
// with the same settings as the server, so an operator migrates once
// before rolling out and runs the instances with MESSENGER_MIGRATE=false.
// --dry-run prints what is missing, and the statements that would run,
// without changing anything. Both are safe while instances are running:
// migrations are additive and serialised by a lease in Cassandra.
func runMigrate(args []string, _ *slog.Logger) error {
	return migrate(args, os.Stdout)
}

// migrate runs `api migrate` with args, reporting to w.
func migrate(args []string, w io.Writer) error {
	dryRun := false
	var rest []string
	for _, a := range args {
		switch a {
		case "--dry-run", "-dry-run", "--dry-run=true", "-dry-run=true":
			dryRun = true
		default:
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(rest)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p, err := planMigration(ctx, cfg)
	if err != nil {
		return err
	}
	p.print(w, dryRun)
	if dryRun || p.upToDate() {
		return nil
	}
	if len(cfg.CassandraHosts) > 0 {
		store, err := openCassandra(ctx, cfg) // applies the pending migrations under the lease
		if err != nil {
			return err
		}
		_ = store.Close()
		media, err := openMediaStore(ctx, cfg) // creates the missing media tables
		if err != nil {
			return err
		}
		_ = media.Close()
	}
	if len(cfg.OpenSearchURLs) > 0 {
		idx, err := openSearch(ctx, cfg) // creates the first indices and their aliases when missing
		if err != nil {
			return err
		}
		_ = idx.Close()
	}
	after, err := planMigration(ctx, cfg)
	if err != nil {
		return err
	}
	if !after.upToDate() {
		after.print(w, true)
		return errors.New("migrate: still not up to date after applying (see above)")
	}
	_, _ = fmt.Fprintln(w, "migrated: up to date")
	return nil
}

// requireMigrated is what an instance started with MESSENGER_MIGRATE=false
// checks instead of migrating: it fails, saying what is missing, unless
// `api migrate` has already brought every configured backend up to date.
func requireMigrated(ctx context.Context, cfg config) error {
	p, err := planMigration(ctx, cfg)
	if err != nil {
		return err
	}
	if p.upToDate() {
		return nil
	}
	var b strings.Builder
	p.print(&b, false)
	return fmt.Errorf("MESSENGER_MIGRATE=false but the schema is not up to date; run `api migrate` with the same settings first:\n%s", b.String())
}

// migrationPlan is what a migration would change.
type migrationPlan struct {
	cassandra   *cassandra.SchemaStatus // nil: no Cassandra configured
	replication string                  // of a keyspace that would be created
	mediaTables []string                // media tables the keyspace lacks
	opensearch  []aliasState            // nil: no OpenSearch configured
}

// aliasState is one OpenSearch alias and the indices behind it (none: the
// alias is missing).
type aliasState struct {
	name    string
	indices []string
}

func planMigration(ctx context.Context, cfg config) (migrationPlan, error) {
	var p migrationPlan
	if len(cfg.CassandraHosts) > 0 {
		conn := cfg.cassandraConn()
		st, err := cassandra.Inspect(ctx, conn)
		if err != nil {
			return p, fmt.Errorf("migrate: cassandra %v: %w", cfg.CassandraHosts, err)
		}
		p.cassandra, p.replication = &st, cql.Replication(conn)
		if p.mediaTables, err = missingTables(ctx, conn, mediacql.Tables()); err != nil {
			return p, err
		}
	}
	if len(cfg.OpenSearchURLs) > 0 {
		c := &openSearchHTTP{cfg: cfg}
		for _, name := range []string{"messages", "users"} {
			a, err := c.alias(ctx, cfg.OpenSearchPrefix+name)
			if err != nil {
				return p, err
			}
			p.opensearch = append(p.opensearch, a)
		}
	}
	return p, nil
}

func (p migrationPlan) upToDate() bool {
	if p.cassandra != nil && (!p.cassandra.KeyspaceExists || len(p.cassandra.Pending) > 0 || len(p.mediaTables) > 0) {
		return false
	}
	for _, a := range p.opensearch {
		if len(a.indices) == 0 {
			return false
		}
	}
	return true
}

// print says where each backend stands; with statements, it also lists
// the CQL each pending migration would run.
func (p migrationPlan) print(w io.Writer, statements bool) {
	if p.cassandra == nil && p.opensearch == nil {
		_, _ = fmt.Fprintln(w, "nothing to migrate: the embedded store, media metadata and search index are brought up to date by the server itself (set MESSENGER_CASSANDRA_HOSTS / MESSENGER_OPENSEARCH_URL)")
		return
	}
	if st := p.cassandra; st != nil {
		_, _ = fmt.Fprintf(w, "cassandra keyspace %s:\n", st.Keyspace)
		if !st.KeyspaceExists {
			_, _ = fmt.Fprintf(w, "  missing: CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s\n", st.Keyspace, p.replication)
		}
		for _, m := range st.Applied {
			_, _ = fmt.Fprintf(w, "  applied: %s\n", m.Name)
		}
		for _, m := range st.Pending {
			_, _ = fmt.Fprintf(w, "  pending: %s (%d statements)\n", m.Name, len(m.Statements))
			if statements {
				for _, s := range m.Statements {
					for i, line := range strings.Split(strings.TrimSpace(s), "\n") {
						if i > 0 {
							_, _ = fmt.Fprintln(w)
						}
						_, _ = fmt.Fprintf(w, "    %s", strings.TrimRight(line, " \t"))
					}
					_, _ = fmt.Fprintln(w, ";")
				}
			}
		}
		if len(p.mediaTables) > 0 {
			_, _ = fmt.Fprintf(w, "  missing media tables (media/cassandra/schema.cql): %s\n", strings.Join(p.mediaTables, ", "))
		} else {
			_, _ = fmt.Fprintln(w, "  media tables: present")
		}
	}
	for _, a := range p.opensearch {
		if len(a.indices) == 0 {
			_, _ = fmt.Fprintf(w, "opensearch alias %s: missing (its first index and the alias would be created)\n", a.name)
		} else {
			_, _ = fmt.Fprintf(w, "opensearch alias %s: present, on %s\n", a.name, strings.Join(a.indices, ", "))
		}
	}
}

// missingTables returns those of tables that cfg's keyspace lacks (all of
// them when the keyspace does not exist), reading the system schema only.
func missingTables(ctx context.Context, cfg cql.Config, tables []string) ([]string, error) {
	s, err := cql.OpenUnbound(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrate: cassandra %v: %w", cfg.Hosts, err)
	}
	defer s.Close()
	have := map[string]bool{}
	iter := s.Query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", s.Keyspace).WithContext(ctx).Iter()
	var name string
	for iter.Scan(&name) {
		have[name] = true
	}
	if err := iter.Close(); err != nil {
		return nil, cql.Wrap(err, "migrate: list the tables of %s", s.Keyspace)
	}
	var out []string
	for _, t := range tables {
		if !have[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// openSearchHTTP reads OpenSearch's aliases over plain HTTP, so a dry run
// needs nothing from the search package and changes nothing.
type openSearchHTTP struct{ cfg config }

// alias looks name up on the first node that answers.
func (c *openSearchHTTP) alias(ctx context.Context, name string) (aliasState, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	if c.cfg.OpenSearchInsecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // #nosec G402 -- the operator asked for it (test clusters)
	}
	var errs []error
	for _, base := range c.cfg.OpenSearchURLs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_alias/"+name, nil)
		if err != nil {
			return aliasState{}, fmt.Errorf("migrate: opensearch %s: %w", base, err)
		}
		if c.cfg.OpenSearchUser != "" {
			req.SetBasicAuth(c.cfg.OpenSearchUser, c.cfg.OpenSearchPassword)
		}
		resp, err := client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case resp.StatusCode == http.StatusNotFound:
			return aliasState{name: name}, nil
		case resp.StatusCode != http.StatusOK:
			return aliasState{}, fmt.Errorf("migrate: opensearch %s: GET /_alias/%s: status %d: %s", base, name, resp.StatusCode, body)
		}
		var byIndex map[string]json.RawMessage
		if err := json.Unmarshal(body, &byIndex); err != nil {
			return aliasState{}, fmt.Errorf("migrate: opensearch %s: decode alias %s: %w", base, name, err)
		}
		a := aliasState{name: name}
		for idx := range byIndex {
			a.indices = append(a.indices, idx)
		}
		slices.Sort(a.indices)
		return a, nil
	}
	return aliasState{}, fmt.Errorf("migrate: no OpenSearch node answered: %w", errors.Join(errs...))
}
