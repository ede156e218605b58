package cql

import (
	"crypto/sha1"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Statements splits a CQL file into statements at the semicolons that end
// its lines, dropping "--" comments; text after the last semicolon is one
// more statement. Statements must not contain ";" mid-line.
func Statements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// TableID derives a stable table id (a name-based UUID) from a namespace
// and the keyspace and table names, for CREATE TABLE IF NOT EXISTS ...
// WITH id = ...: processes creating the same table at the same moment then
// agree on one table instead of racing two into the schema. The namespace
// keeps each backend's ids apart; changing it changes every id.
func TableID(namespace, keyspace, table string) string {
	sum := sha1.Sum([]byte(namespace + "/" + keyspace + "." + table))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	var u gocql.UUID
	copy(u[:], sum[:16])
	return u.String()
}
