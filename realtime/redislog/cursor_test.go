package redislog

import (
	"errors"
	"fmt"
	"testing"

	"messenger/realtime"
)

// These need no server: the cursor format and the trim arithmetic.

func TestCursorRoundTrips(t *testing.T) {
	p := position{id: streamID{1732320000123, 7}, ord: 42}
	e := newEpoch()
	gotE, gotP, err := parseCursor(cursor(e, p))
	if err != nil || gotE != e || gotP != p {
		t.Fatalf("parse(cursor) = %q %+v %v; want %q %+v", gotE, gotP, err, e, p)
	}
	for _, c := range []string{"", "garbage", "!!!", "bm90LWEtY3Vyc29y", cursor("short", p)} {
		if _, _, err := parseCursor(c); !errors.Is(err, realtime.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func TestTrimGapArithmetic(t *testing.T) {
	// 10 entries added (ids 1-0..10-0), the oldest 5 trimmed: 6-0..10-0 kept.
	st := streamState{length: 5, added: 10, last: streamID{10, 0}, first: streamID{6, 0}}
	cases := []struct {
		p       position
		expired bool
	}{
		{position{streamID{5, 0}, 5}, false},   // just before the first kept: nothing missed
		{position{streamID{4, 0}, 4}, true},    // event 5 was trimmed
		{position{streamID{10, 0}, 10}, false}, // at the end
		{position{streamID{11, 0}, 11}, true},  // ahead: the stream lost its tail
		{position{streamID{9, 0}, 12}, true},   // ordinal past entries-added
	}
	for _, c := range cases {
		err := st.gap(c.p)
		if got := errors.Is(err, realtime.ErrCursorExpired); got != c.expired {
			t.Errorf("gap(%+v) = %v, want expired=%v", c.p, err, c.expired)
		}
	}
}

func TestSignalNoticeRoundTrips(t *testing.T) {
	e := realtime.Event{Type: "Typing:x", Data: []byte(`{"a":"b:c"}`)}
	got, ok := parseSignal(signalNotice(e))
	if !ok || got.Type != e.Type || string(got.Data) != string(e.Data) {
		t.Fatalf("got %+v %v", got, ok)
	}
}

func TestShardChoiceIsStableAndSpread(t *testing.T) {
	shards := []*shard{{name: "a:1"}, {name: "b:1"}, {name: "c:1"}}
	count := map[string]int{}
	for i := range 3000 {
		u := fmt.Sprint("u-", i)
		s := pick(shards, u)
		if pick(shards, u) != s {
			t.Fatal("choice not stable")
		}
		count[s.name]++
	}
	for name, n := range count {
		if n < 800 || n > 1200 {
			t.Errorf("shard %s got %d of 3000 users", name, n)
		}
	}
	// Adding a shard moves only users to the new one.
	more := append(shards, &shard{name: "d:1"})
	for i := range 3000 {
		u := fmt.Sprint("u-", i)
		if to := pick(more, u); to.name != "d:1" && to != pick(shards, u) {
			t.Fatalf("user %s moved between old shards", u)
		}
	}
}
