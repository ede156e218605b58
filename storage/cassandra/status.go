package cassandra

import (
	"context"

	"messenger/cql"
)

// Migration is one embedded schema change (migrations/NNN_what.cql).
type Migration struct {
	// Version is NNN; migrations apply in version order.
	Version int
	// Name is the file name.
	Name string
	// Statements are the file's CQL statements, in order.
	Statements []string
}

// SchemaStatus is where a keyspace's schema stands against the embedded
// migrations.
type SchemaStatus struct {
	// Keyspace is the keyspace looked at; KeyspaceExists says whether it
	// exists yet.
	Keyspace       string
	KeyspaceExists bool
	// Applied and Pending split the embedded migrations: those the
	// keyspace's schema_version lists, and the rest, in version order.
	Applied, Pending []Migration
}

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration{Version: m.version, Name: m.name, Statements: m.statements}
	}
	return out, nil
}

// Inspect reads cfg's keyspace's schema status and changes nothing (not
// even the keyspace): what `api migrate --dry-run` reports.
func Inspect(ctx context.Context, cfg Config) (SchemaStatus, error) {
	session, err := cql.OpenUnbound(ctx, cfg)
	if err != nil {
		return SchemaStatus{}, err
	}
	defer session.Close()
	ks := session.Keyspace
	st := SchemaStatus{Keyspace: ks}
	all, err := Migrations()
	if err != nil {
		return st, err
	}
	var n int
	if err := session.Query("SELECT count(*) FROM system_schema.keyspaces WHERE keyspace_name = ?", ks).
		WithContext(ctx).Scan(&n); err != nil {
		return st, wrap(err, "inspect: look up keyspace %s", ks)
	}
	st.KeyspaceExists = n > 0
	if err := session.Query("SELECT count(*) FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'schema_version'", ks).
		WithContext(ctx).Scan(&n); err != nil {
		return st, wrap(err, "inspect: look up %s.schema_version", ks)
	}
	applied := map[int]bool{}
	if n > 0 {
		iter := session.Query("SELECT version FROM " + ks + ".schema_version").WithContext(ctx).Iter()
		var v int
		for iter.Scan(&v) {
			applied[v] = true
		}
		if err := iter.Close(); err != nil {
			return st, wrap(err, "inspect: read %s.schema_version", ks)
		}
	}
	for _, m := range all {
		if applied[m.Version] {
			st.Applied = append(st.Applied, m)
		} else {
			st.Pending = append(st.Pending, m)
		}
	}
	return st, nil
}
