package cassandra

import "messenger/cql"

// wrap adds what was being done to a driver error, and marks errors that
// mean "Cassandra cannot answer now" with storage.ErrUnavailable (see
// cql.Wrap).
func wrap(err error, format string, args ...any) error {
	return cql.Wrap(err, "cassandra: "+format, args...)
}
