package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"messenger/search"
)

// RebuildStats reports what a rebuild wrote.
type RebuildStats struct {
	Generation    string
	Conversations int
	Messages      int
	Hides         int
	Users         int
}

// Rebuild recreates the index from durable storage into a new generation
// (the current mapping version) and then makes it live, so a mapping change
// rolls out without a window of missing results. Every conversation and
// every user of the store is rebuilt (Source.ConversationIDs, UserIDs);
// message text comes from the store, hides are carried over from the live
// index (the store cannot list who hid a message). Changes made while it
// runs reach the old generation; the Indexer's next scan brings the new
// one up to every conversation's LastSeq, and the new generation's
// SyncedAt is the rebuild's start, so an API started after it rechecks the
// edits made meanwhile (see Indexer) — but one already running does not:
// rebuild in a quiet period.
func Rebuild(ctx context.Context, r search.Rebuilder, src Source, log *slog.Logger) (RebuildStats, error) {
	var st RebuildStats
	if log == nil {
		log = slog.Default()
	}
	started := time.Now()
	gen, err := r.NewGeneration(ctx)
	if err != nil {
		return st, err
	}
	st.Generation = gen.Name()
	fail := func(err error) (RebuildStats, error) {
		if aerr := gen.Abandon(context.WithoutCancel(ctx)); aerr != nil {
			log.Error("rebuild: dropping the unfinished generation failed", "generation", st.Generation, "err", aerr)
		}
		return st, err
	}
	after := ""
	for {
		ids, err := src.ConversationIDs(ctx, after, 200)
		if err != nil {
			return fail(fmt.Errorf("search: rebuild: list conversations: %w", err))
		}
		if err := rebuildConversations(ctx, gen, src, ids, &st); err != nil {
			return fail(err)
		}
		log.Info("rebuild: progress", "conversations", st.Conversations, "messages", st.Messages)
		if len(ids) < 200 {
			break
		}
		after = ids[len(ids)-1]
	}
	var hides []search.Hide
	flushHides := func() error {
		if len(hides) == 0 {
			return nil
		}
		err := gen.Apply(ctx, search.Batch{Hides: hides})
		st.Hides += len(hides)
		hides = hides[:0]
		return err
	}
	if err := r.Hides(ctx, func(h search.Hide) error {
		hides = append(hides, h)
		if len(hides) == 1000 {
			return flushHides()
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	if err := flushHides(); err != nil {
		return fail(err)
	}
	for after := ""; ; {
		ids, err := src.UserIDs(ctx, after, 1000)
		if err != nil {
			return fail(fmt.Errorf("search: rebuild: list users: %w", err))
		}
		us, err := src.Users(ctx, ids)
		if err != nil {
			return fail(fmt.Errorf("search: rebuild: load users: %w", err))
		}
		b := search.Batch{}
		for _, u := range us {
			b.Users = append(b.Users, search.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName})
		}
		if !b.Empty() {
			if err := gen.Apply(ctx, b); err != nil {
				return fail(err)
			}
		}
		st.Users += len(b.Users)
		if len(ids) < 1000 {
			break
		}
		after = ids[len(ids)-1]
	}
	if err := gen.Apply(ctx, search.Batch{SyncedAt: started}); err != nil {
		return fail(err)
	}
	if err := gen.Promote(ctx); err != nil {
		return fail(err)
	}
	return st, nil
}

// rebuildConversations copies the messages of the conversations ids into
// gen, in batches of up to 2,000, each with the watermark it completes.
func rebuildConversations(ctx context.Context, gen search.Generation, src Source, ids []string, st *RebuildStats) error {
	stored, err := src.Conversations(ctx, ids)
	if err != nil {
		return fmt.Errorf("search: rebuild: load conversations: %w", err)
	}
	for _, c := range stored {
		for lo := int64(1); lo <= c.LastSeq; lo += 2000 {
			hi := min(lo+1999, c.LastSeq)
			seqs := make([]int64, 0, hi-lo+1)
			for s := lo; s <= hi; s++ {
				seqs = append(seqs, s)
			}
			ms, err := src.Messages(ctx, c.ID, seqs)
			if err != nil {
				return fmt.Errorf("search: rebuild: load messages of %s: %w", c.ID, err)
			}
			b := search.Batch{Watermarks: map[string]int64{c.ID: hi}}
			for _, s := range seqs {
				if m, ok := ms[s]; ok && m.DeletedAt == nil {
					b.Upserts = append(b.Upserts, search.Message{ConversationID: c.ID, Seq: s, SenderID: m.SenderID, Body: m.Body, SentAt: m.SentAt})
				}
			}
			if err := gen.Apply(ctx, b); err != nil {
				return err
			}
			st.Messages += len(b.Upserts)
		}
		if c.LastSeq == 0 {
			if err := gen.Apply(ctx, search.Batch{Watermarks: map[string]int64{c.ID: 0}}); err != nil {
				return err
			}
		}
		st.Conversations++
	}
	return nil
}
