package cassandra

import (
	"strings"

	"messenger/cql"
)

// Tables names the tables Open creates when they are missing (schema.cql),
// so an operator's dry run (`api migrate --dry-run`) can say which a
// keyspace lacks.
func Tables() []string {
	var out []string
	for _, stmt := range cql.Statements(schema) {
		out = append(out, strings.Fields(stmt)[5]) // CREATE TABLE IF NOT EXISTS <name> (
	}
	return out
}
