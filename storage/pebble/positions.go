package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"

	"messenger/storage"
)

// Receipt counts come from a histogram of where the current members stand,
// not from reading every member: "how many have read seq" is how many
// cursors are at seq or beyond, less those who joined at seq or later
// (a joiner's cursors start at the join point, though they never saw what
// came before) and less the sender. Counting a page of messages then reads
// one histogram entry per distinct position from the page's oldest message
// to the end, however many members the conversation has.
//
// Keys: pos\0<conv>\0<READ|DELIVERED|JOINED>\0<seq hex> -> decimal count of
// current members whose read cursor, delivered cursor or join point is at
// seq (positions 0 are not kept: no message has seq 0);
// posbuilt\0<conv> -> "" once the histogram is kept for conv. Conversations
// stored before the histogram existed get it built, from their members, on
// their first count. Every change is written in the batch that changes the
// member, under the conversation's lock.

const joined = "JOINED"

// posDeltas accumulates histogram changes for one batch.
type posDeltas map[string]int64

func (d posDeltas) move(conv, kind string, from, to int64) {
	if from == to {
		return
	}
	if from > 0 {
		d[string(pebblekv.Key("pos", conv, kind, seqKey(from)))]--
	}
	if to > 0 {
		d[string(pebblekv.Key("pos", conv, kind, seqKey(to)))]++
	}
}

// add counts a member who starts (or, with sign -1, stops) being current.
func (d posDeltas) add(m storage.Member, sign int64) {
	for kind, seq := range map[string]int64{joined: m.JoinedSeq, string(storage.Read): m.ReadSeq, string(storage.Delivered): m.DeliveredSeq} {
		if seq > 0 {
			d[string(pebblekv.Key("pos", m.ConversationID, kind, seqKey(seq)))] += sign
		}
	}
}

// apply writes the changed counts into b. The caller holds the
// conversation's lock, so the counts read here cannot change meanwhile.
func (s *Store) applyPositions(b *pebble.Batch, d posDeltas) error {
	for k, delta := range d {
		if delta == 0 {
			continue
		}
		n, err := s.count([]byte(k))
		if err != nil {
			return err
		}
		if n += delta; n <= 0 {
			if err := b.Delete([]byte(k), nil); err != nil {
				return err
			}
			continue
		}
		if err := b.Set([]byte(k), []byte(strconv.FormatInt(n, 10)), nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) count(k []byte) (int64, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pebble: get: %w", err)
	}
	defer func() { _ = closer.Close() }()
	return strconv.ParseInt(string(v), 10, 64)
}

// positionsKept reports whether conv's histogram is maintained.
func (s *Store) positionsKept(conv string) (bool, error) {
	return s.exists(pebblekv.Key("posbuilt", conv))
}

// buildPositions makes conv's histogram from its members, once.
func (s *Store) buildPositions(ctx context.Context, conv string) error {
	defer s.lock(conv)()
	if kept, err := s.positionsKept(conv); err != nil || kept {
		return err
	}
	d := posDeltas{}
	p := pebblekv.Prefix("member", conv)
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var m storage.Member
		if err := json.Unmarshal(v, &m); err != nil {
			return false, err
		}
		d.add(m, 1)
		return true, nil
	})
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := s.applyPositions(b, d); err != nil {
		return err
	}
	if err := b.Set(pebblekv.Key("posbuilt", conv), nil, nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// atOrAfter counts, per kind, the members whose position is at or after
// each of seqs, from one consistent view of the histogram.
func (s *Store) atOrAfter(ctx context.Context, conv string, seqs []int64) (map[string]map[int64]int64, error) {
	minSeq := seqs[0]
	for _, seq := range seqs {
		minSeq = min(minSeq, seq)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: pebblekv.Prefix("pos", conv), UpperBound: pebblekv.Upper(pebblekv.Prefix("pos", conv))})
	if err != nil {
		return nil, fmt.Errorf("pebble: iterate: %w", err)
	}
	defer func() { _ = it.Close() }()
	out := map[string]map[int64]int64{}
	for _, kind := range []string{string(storage.Delivered), joined, string(storage.Read)} {
		type entry struct{ seq, n int64 }
		var entries []entry
		end := pebblekv.Upper(pebblekv.Prefix("pos", conv, kind))
		for ok := it.SeekGE(pebblekv.Key("pos", conv, kind, seqKey(minSeq))); ok && string(it.Key()) < string(end); ok = it.Next() {
			seq, err := strconv.ParseInt(pebblekv.Last(it.Key()), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("pebble: bad position key %q", it.Key())
			}
			n, err := strconv.ParseInt(string(it.Value()), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("pebble: bad position count %q", it.Value())
			}
			entries = append(entries, entry{seq, n})
		}
		if err := it.Error(); err != nil {
			return nil, fmt.Errorf("pebble: iterate: %w", err)
		}
		suffix := make([]int64, len(entries)+1) // suffix[i]: members at entries[i:]
		for i := len(entries) - 1; i >= 0; i-- {
			suffix[i] = suffix[i+1] + entries[i].n
		}
		counts := make(map[int64]int64, len(seqs))
		for _, seq := range seqs {
			counts[seq] = suffix[sort.Search(len(entries), func(i int) bool { return entries[i].seq >= seq })]
		}
		out[kind] = counts
	}
	return out, nil
}
