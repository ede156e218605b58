package cql

import (
	"context"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// schemaPatience bounds ExecSchema when its ctx has no deadline.
const schemaPatience = 2 * time.Minute

// ExecSchema runs an idempotent schema statement (CREATE ... IF NOT EXISTS),
// trying again while the node does not answer in time. A schema change waits
// for the node to write and agree on the new schema, which on a busy node
// can take longer than one request's timeout although it succeeds; running
// the statement again is harmless and returns once the change is in. It
// gives up when ctx ends (or after schemaPatience if ctx has no deadline)
// and returns the last error. Never use it for a statement that is not
// idempotent (ALTER TABLE ... ADD fails the second time).
func ExecSchema(ctx context.Context, session *gocql.Session, stmt string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, schemaPatience)
		defer cancel()
	}
	wait := 250 * time.Millisecond
	for {
		err := session.Query(stmt).WithContext(ctx).Idempotent(true).Exec()
		if err == nil || !Unavailable(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
