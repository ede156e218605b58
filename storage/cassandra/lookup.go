package cassandra

import (
	"context"
	"errors"

	"messenger/cql"
	"messenger/storage"
)

// lookupEach reads the record of each id with get, one single-partition
// read per id, in parallel, into a map by id: unknown ids (ErrNotFound)
// are absent, any other error fails the whole lookup.
func lookupEach[V any](ctx context.Context, ids []string, get func(context.Context, string) (V, error)) (map[string]V, error) {
	found := make([]*V, len(ids))
	err := cql.Parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		v, err := get(ctx, ids[i])
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found[i] = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]V, len(ids))
	for i, v := range found {
		if v != nil {
			out[ids[i]] = *v
		}
	}
	return out, nil
}
