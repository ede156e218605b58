package pebblekv

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Scan calls fn for each key and value from lower (inclusive) to upper
// (exclusive, nil = no bound), in key order or, when reverse, in reverse,
// until fn returns false or an error (which Scan returns). It stops with
// ctx's error when ctx ends between two keys. k and v are valid only
// during the call.
func Scan(ctx context.Context, db *pebble.DB, lower, upper []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	it, err := db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebble: iterate: %w", err)
	}
	defer func() { _ = it.Close() }()
	var ok bool
	step := it.Next
	if reverse {
		ok, step = it.Last(), it.Prev
	} else {
		ok = it.First()
	}
	for ; ok; ok = step() {
		more, err := fn(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return it.Error()
}
