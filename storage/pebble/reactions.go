package pebble

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"

	"messenger/storage"
)

// Keys: reaction\0<conv>\0<seq hex>\0<emoji>\0<user> -> unix nanos, one
// row per reaction; and, so that showing a message's reactions does not
// read every reaction on it (a popular message in a big group has
// thousands):
// rsum\0<conv>\0<seq hex>\0<emoji> -> "<count> <first unix nanos>", one
// row per emoji used on a message;
// rby\0<conv>\0<user>\0<seq hex>\0<emoji> -> "", one row per reaction,
// by user, for "did I react";
// rsumbuilt\0<conv> -> "" once rsum and rby are kept for conv.
// Conversations stored before rsum and rby existed get them built, from
// their reaction rows, on their first read. All are written in the batch of
// the reaction they count, under the conversation's lock.

// AddReaction implements storage.Store.
func (s *Store) AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (bool, error) {
	defer s.lock(conversationID)()
	k := pebblekv.Key("reaction", conversationID, seqKey(seq), emoji, userID)
	present, err := s.exists(k)
	if err != nil || present {
		return false, err
	}
	sk := pebblekv.Key("rsum", conversationID, seqKey(seq), emoji)
	n, first, err := s.reactionSummary(sk)
	if err != nil {
		return false, err
	}
	if n == 0 || at.UnixNano() < first {
		first = at.UnixNano()
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	for _, err := range []error{
		b.Set(k, []byte(strconv.FormatInt(at.UnixNano(), 10)), nil),
		b.Set(pebblekv.Key("rby", conversationID, userID, seqKey(seq), emoji), nil, nil),
		b.Set(sk, summaryValue(n+1, first), nil),
	} {
		if err != nil {
			return false, err
		}
	}
	return true, b.Commit(s.wo)
}

// RemoveReaction implements storage.Store.
func (s *Store) RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (bool, error) {
	defer s.lock(conversationID)()
	k := pebblekv.Key("reaction", conversationID, seqKey(seq), emoji, userID)
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pebble: get: %w", err)
	}
	at, err := strconv.ParseInt(string(v), 10, 64)
	_ = closer.Close()
	if err != nil {
		return false, err
	}
	sk := pebblekv.Key("rsum", conversationID, seqKey(seq), emoji)
	n, first, err := s.reactionSummary(sk)
	if err != nil {
		return false, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.Delete(k, nil); err != nil {
		return false, err
	}
	if err := b.Delete(pebblekv.Key("rby", conversationID, userID, seqKey(seq), emoji), nil); err != nil {
		return false, err
	}
	switch {
	case n <= 1:
		err = b.Delete(sk, nil)
	case at == first: // the first to use it left: the next earliest is first now
		rows, rerr := s.reactionRows(ctx, conversationID, seq, emoji)
		if rerr != nil {
			return false, rerr
		}
		first = 0
		for _, r := range rows {
			if r.user != userID && (first == 0 || r.at.UnixNano() < first) {
				first = r.at.UnixNano()
			}
		}
		err = b.Set(sk, summaryValue(n-1, first), nil)
	default:
		err = b.Set(sk, summaryValue(n-1, first), nil)
	}
	if err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

func summaryValue(n, first int64) []byte {
	return []byte(strconv.FormatInt(n, 10) + " " + strconv.FormatInt(first, 10))
}

func parseSummary(v []byte) (n, first int64, err error) {
	ns, fs, ok := strings.Cut(string(v), " ")
	if n, err = strconv.ParseInt(ns, 10, 64); err != nil || !ok {
		return 0, 0, fmt.Errorf("pebble: bad reaction summary %q", v)
	}
	if first, err = strconv.ParseInt(fs, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("pebble: bad reaction summary %q", v)
	}
	return n, first, nil
}

func (s *Store) reactionSummary(k []byte) (n, first int64, err error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("pebble: get: %w", err)
	}
	defer func() { _ = closer.Close() }()
	return parseSummary(v)
}

type reactionRow struct {
	emoji, user string
	at          time.Time
}

// reactionRows reads the reaction rows of one message (of one emoji when
// emoji is set), from the first user after afterUserID, at most limit
// (limit <= 0: all).
func (s *Store) reactionRows(ctx context.Context, conversationID string, seq int64, emoji string) ([]reactionRow, error) {
	return s.reactionRowsAfter(ctx, conversationID, seq, emoji, "", 0)
}

func (s *Store) reactionRowsAfter(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]reactionRow, error) {
	p := pebblekv.Prefix("reaction", conversationID, seqKey(seq))
	if emoji != "" {
		p = pebblekv.Prefix("reaction", conversationID, seqKey(seq), emoji)
	}
	lower := p
	if emoji != "" && afterUserID != "" {
		lower = append(pebblekv.Key("reaction", conversationID, seqKey(seq), emoji, afterUserID), 0)
	}
	var rows []reactionRow
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		parts := strings.Split(string(k), "\x00")
		ns, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, err
		}
		rows = append(rows, reactionRow{emoji: parts[3], user: parts[4], at: time.Unix(0, ns).UTC()})
		return limit <= 0 || len(rows) < limit, nil
	})
	return rows, err
}

// reactionIndexes makes sure rsum and rby are kept for a conversation,
// building them from its reaction rows the first time.
func (s *Store) reactionIndexes(ctx context.Context, conversationID string) error {
	if built, err := s.exists(pebblekv.Key("rsumbuilt", conversationID)); err != nil || built {
		return err
	}
	defer s.lock(conversationID)()
	if built, err := s.exists(pebblekv.Key("rsumbuilt", conversationID)); err != nil || built {
		return err
	}
	type sum struct{ n, first int64 }
	sums := map[string]*sum{}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	for _, p := range [][]byte{pebblekv.Prefix("rsum", conversationID), pebblekv.Prefix("rby", conversationID)} {
		if err := b.DeleteRange(p, pebblekv.Upper(p), nil); err != nil {
			return err
		}
	}
	p := pebblekv.Prefix("reaction", conversationID)
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		parts := strings.Split(string(k), "\x00") // reaction, conv, seq, emoji, user
		at, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, err
		}
		sk := string(pebblekv.Key("rsum", conversationID, parts[2], parts[3]))
		if sm, ok := sums[sk]; !ok {
			sums[sk] = &sum{1, at}
		} else {
			sm.n++
			sm.first = min(sm.first, at)
		}
		return true, b.Set(pebblekv.Key("rby", conversationID, parts[4], parts[2], parts[3]), nil, nil)
	})
	if err != nil {
		return err
	}
	for k, sm := range sums {
		if err := b.Set([]byte(k), summaryValue(sm.n, sm.first), nil); err != nil {
			return err
		}
	}
	if err := b.Set(pebblekv.Key("rsumbuilt", conversationID), nil, nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Reactions implements storage.Store: one scan of the emoji summaries of
// the messages from the lowest to the highest seq asked, however many
// reacted.
func (s *Store) Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	out := make(map[int64][]storage.ReactionSummary, len(seqs))
	if len(seqs) == 0 {
		return out, nil
	}
	if err := s.reactionIndexes(ctx, conversationID); err != nil {
		return nil, err
	}
	want, lo, hi := seqSet(seqs)
	p := pebblekv.Prefix("rsum", conversationID)
	err := s.scan(ctx, pebblekv.Prefix("rsum", conversationID, seqKey(lo)), pebblekv.Upper(pebblekv.Prefix("rsum", conversationID, seqKey(hi))), false, func(k, v []byte) (bool, error) {
		sk, emoji, _ := strings.Cut(string(k[len(p):]), "\x00")
		seq, err := strconv.ParseInt(sk, 16, 64)
		if err != nil || !want[seq] {
			return err == nil, err
		}
		n, first, err := parseSummary(v)
		if err != nil {
			return false, err
		}
		out[seq] = append(out[seq], storage.ReactionSummary{
			MessageID: storage.MessageID(conversationID, seq), Emoji: emoji, Count: int(n), FirstAt: time.Unix(0, first).UTC(),
		})
		return true, nil
	})
	for _, sums := range out {
		sort.SliceStable(sums, func(a, b int) bool { return sums[a].FirstAt.Before(sums[b].FirstAt) })
	}
	return out, err
}

func seqSet(seqs []int64) (want map[int64]bool, lo, hi int64) {
	want = make(map[int64]bool, len(seqs))
	lo, hi = seqs[0], seqs[0]
	for _, seq := range seqs {
		want[seq] = true
		lo, hi = min(lo, seq), max(hi, seq)
	}
	return want, lo, hi
}

// ReactionsBy implements storage.Store: one scan of the user's reactions
// between the lowest and highest seq asked.
func (s *Store) ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error) {
	out := make(map[int64][]string, len(seqs))
	if len(seqs) == 0 {
		return out, nil
	}
	if err := s.reactionIndexes(ctx, conversationID); err != nil {
		return nil, err
	}
	want, lo, hi := seqSet(seqs)
	p := pebblekv.Prefix("rby", conversationID, userID)
	err := s.scan(ctx, pebblekv.Prefix("rby", conversationID, userID, seqKey(lo)), pebblekv.Upper(pebblekv.Prefix("rby", conversationID, userID, seqKey(hi))), false, func(k, _ []byte) (bool, error) {
		parts := strings.Split(string(k[len(p):]), "\x00") // seq, emoji
		seq, err := strconv.ParseInt(parts[0], 16, 64)
		if err != nil {
			return false, err
		}
		if want[seq] {
			out[seq] = append(out[seq], parts[1])
		}
		return true, nil
	})
	return out, err
}

// ReactionUsers implements storage.Store: it reads from afterUserID on, at
// most limit rows.
func (s *Store) ReactionUsers(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]storage.Receipt, error) {
	if emoji == "" {
		return nil, nil
	}
	rows, err := s.reactionRowsAfter(ctx, conversationID, seq, emoji, afterUserID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Receipt, len(rows))
	for i, r := range rows {
		out[i] = storage.Receipt{UserID: r.user, At: r.at}
	}
	return out, nil
}
