package pebble

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"

	"messenger/storage"
)

// Keys: fanout\0<sent at, unix ms, hex>\0<conv>\0<seq hex> -> "" for a
// message, fanout\0<deferred at>\0<conv>\0e<event id> -> deferredEvent JSON
// for a deferred event. AppendMessage sets a message's key in the batch
// that creates the message, so a message and its pending fan-out are
// written together or not at all; the time first in the key lets
// PendingFanOuts read the oldest first and stop at sentBefore.
//
// Confirmed fan-outs are deleted, and until compaction drops them an
// iterator steps over their tombstones; so PendingFanOuts starts at a floor
// rather than at the first key. The first call after Open reads from the
// start (a crash leaves pending keys of any age); later calls start at the
// oldest pending key found, or at floorLag before sentBefore if there was
// none: a send is stamped (SentAt) moments before its batch commits, far
// less than floorLag.

// floorLag is how far behind sentBefore the floor stays when nothing is pending.
const floorLag = 5 * time.Minute

// deferredEvent is the value of a deferred event's key.
type deferredEvent struct {
	UserIDs []string `json:"u"`
	Type    string   `json:"t"`
	Data    []byte   `json:"d"`
}

func fanOutKey(p storage.PendingFanOut) []byte {
	last := seqKey(p.Seq)
	if p.EventID != "" {
		last = "e" + p.EventID
	}
	return pebblekv.Key("fanout", pebblekv.Hex(p.SentAt.UnixMilli()), p.ConversationID, last)
}

// PendingFanOuts implements storage.Store.
func (s *Store) PendingFanOuts(ctx context.Context, sentBefore time.Time, limit int) ([]storage.PendingFanOut, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lo := pebblekv.Prefix("fanout")
	floor := s.fanOutFloor.Load()
	hi := pebblekv.Prefix("fanout", pebblekv.Hex(sentBefore.UnixMilli()))
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: pebblekv.Prefix("fanout", pebblekv.Hex(floor)), UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("pebble: pending fan-outs: %w", err)
	}
	defer func() { _ = it.Close() }()
	var out []storage.PendingFanOut
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		parts := strings.Split(string(it.Key()[len(lo):]), "\x00")
		if len(parts) != 3 {
			continue
		}
		ms, err := strconv.ParseInt(parts[0], 16, 64)
		if err != nil {
			continue
		}
		p := storage.PendingFanOut{ConversationID: parts[1], SentAt: time.UnixMilli(ms).UTC()}
		if id, ok := strings.CutPrefix(parts[2], "e"); ok {
			var d deferredEvent
			if err := json.Unmarshal(it.Value(), &d); err != nil {
				return nil, fmt.Errorf("pebble: deferred event %s: %w", id, err)
			}
			p.EventID, p.UserIDs, p.Type, p.Data = id, d.UserIDs, d.Type, d.Data
		} else if p.Seq, err = strconv.ParseInt(parts[2], 16, 64); err != nil {
			continue
		}
		out = append(out, p)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("pebble: pending fan-outs: %w", err)
	}
	next := sentBefore.Add(-floorLag).UnixMilli()
	if len(out) > 0 {
		next = min(next, out[0].SentAt.UnixMilli())
	}
	if next > floor {
		s.fanOutFloor.CompareAndSwap(floor, next)
	}
	return out, nil
}

// FanOutDone implements storage.Store.
func (s *Store) FanOutDone(ctx context.Context, p storage.PendingFanOut) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Not synced: a confirmation lost to a machine crash only makes the
	// sweeper replay the fan-out, which adds nothing to logs that have it;
	// syncing it doubled the fsyncs of every send.
	if err := s.db.Delete(fanOutKey(p), pebble.NoSync); err != nil {
		return fmt.Errorf("pebble: fan-out of %s done: %w", describe(p), err)
	}
	return nil
}

// DeferFanOut implements storage.Store.
func (s *Store) DeferFanOut(ctx context.Context, p storage.PendingFanOut) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.EventID == "" {
		return fmt.Errorf("pebble: defer fan-out: no event id")
	}
	v, err := json.Marshal(deferredEvent{UserIDs: p.UserIDs, Type: p.Type, Data: p.Data})
	if err != nil {
		return err
	}
	// The floor must not pass a deferred event written with an older time.
	for {
		floor := s.fanOutFloor.Load()
		if ms := p.SentAt.UnixMilli(); ms >= floor || s.fanOutFloor.CompareAndSwap(floor, ms) {
			break
		}
	}
	if err := s.db.Set(fanOutKey(p), v, s.wo); err != nil {
		return fmt.Errorf("pebble: defer fan-out of %s: %w", describe(p), err)
	}
	return nil
}

func describe(p storage.PendingFanOut) string {
	if p.EventID != "" {
		return "event " + p.EventID
	}
	return storage.MessageID(p.ConversationID, p.Seq)
}
