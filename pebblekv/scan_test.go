package pebblekv

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func openTestDB(t *testing.T, keys ...[]byte) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(t.TempDir(), &pebble.Options{Logger: QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, k := range keys {
		if err := db.Set(k, []byte("v"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func collect(t *testing.T, db *pebble.DB, lower, upper []byte, reverse bool, max int) ([]string, error) {
	t.Helper()
	var out []string
	err := Scan(context.Background(), db, lower, upper, reverse, func(k, _ []byte) (bool, error) {
		out = append(out, Last(k))
		return len(out) < max, nil
	})
	return out, err
}

func TestScanWalksOnePrefixInEitherOrder(t *testing.T) {
	db := openTestDB(t, Key("m", "a", Hex(1)), Key("m", "a", Hex(2)), Key("m", "a", Hex(3)), Key("m", "ab", Hex(4)), Key("n", "a", Hex(5)))
	p := Prefix("m", "a")
	got, err := collect(t, db, p, Upper(p), false, 10)
	if err != nil || !reflect.DeepEqual(got, []string{Hex(1), Hex(2), Hex(3)}) {
		t.Fatalf("forward = %v, %v", got, err)
	}
	got, err = collect(t, db, p, Upper(p), true, 2)
	if err != nil || !reflect.DeepEqual(got, []string{Hex(3), Hex(2)}) {
		t.Fatalf("reverse, first two = %v, %v", got, err)
	}
}

func TestScanReturnsTheCallbacksError(t *testing.T) {
	db := openTestDB(t, Key("m", "1"), Key("m", "2"))
	boom := errors.New("boom")
	calls := 0
	err := Scan(context.Background(), db, Prefix("m"), Upper(Prefix("m")), false, func(_, _ []byte) (bool, error) {
		calls++
		return true, boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want boom after 1", err, calls)
	}
}

func TestScanStopsWhenTheContextEnds(t *testing.T) {
	db := openTestDB(t, Key("m", "1"), Key("m", "2"), Key("m", "3"))
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	err := Scan(ctx, db, Prefix("m"), Upper(Prefix("m")), false, func(k, _ []byte) (bool, error) {
		got = append(got, Last(k))
		cancel()
		return true, nil
	})
	if !errors.Is(err, context.Canceled) || len(got) != 1 {
		t.Fatalf("err = %v after %v, want context.Canceled after one key", err, got)
	}
}
