package cassandra

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/storage"
)

func TestDriverErrorsMapToStorageErrors(t *testing.T) {
	for _, tc := range []struct {
		err         error
		unavailable bool
	}{
		{gocql.ErrNoConnections, true},
		{fmt.Errorf("query: %w", gocql.ErrTimeoutNoResponse), true},
		{gocql.ErrConnectionClosed, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{errors.New("syntax error"), false},
	} {
		err := wrap(tc.err, "read thing %d", 7)
		if got := errors.Is(err, storage.ErrUnavailable); got != tc.unavailable {
			t.Errorf("wrap(%v): unavailable = %v, want %v (%v)", tc.err, got, tc.unavailable, err)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("wrap(%v) lost the driver error: %v", tc.err, err)
		}
	}
	notFound := fmt.Errorf("cassandra: user x: %w", storage.ErrNotFound)
	if err := wrap(notFound, "find"); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("wrap(not found) = %v", err)
	}
}
