package search

import (
	"context"
	"fmt"
	"log/slog"

	"messenger/storage"
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
// rolls out without a window of missing results. The conversations rebuilt
// are those the live index has a watermark for, plus extraConversations;
// message text comes from the store, hides are carried over from the live
// index (the store cannot list who hid a message) and users are re-read
// from the store. Changes made while it runs reach the old generation; the
// Indexer's next scan brings the new one up to every conversation's
// LastSeq, but an edit or hide of an already copied message during the
// rebuild is only in the old one: rebuild in a quiet period.
func Rebuild(ctx context.Context, r Rebuilder, store storage.Store, extraConversations []string, log *slog.Logger) (RebuildStats, error) {
	var st RebuildStats
	if log == nil {
		log = slog.Default()
	}
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
	convs := map[string]bool{}
	for _, c := range extraConversations {
		convs[c] = true
	}
	after := ""
	for {
		ids, err := r.WatermarkedConversations(ctx, after, 1000)
		if err != nil {
			return fail(err)
		}
		for _, id := range ids {
			convs[id] = true
		}
		if len(ids) < 1000 {
			break
		}
		after = ids[len(ids)-1]
	}
	ids := make([]string, 0, len(convs))
	for id := range convs {
		ids = append(ids, id)
	}
	for len(ids) > 0 {
		n := min(len(ids), 200)
		chunk := ids[:n]
		ids = ids[n:]
		stored, err := store.Conversations(ctx, chunk)
		if err != nil {
			return fail(fmt.Errorf("search: rebuild: load conversations: %w", err))
		}
		for _, c := range stored {
			for lo := int64(1); lo <= c.LastSeq; lo += 2000 {
				hi := min(lo+1999, c.LastSeq)
				seqs := make([]int64, 0, hi-lo+1)
				for s := lo; s <= hi; s++ {
					seqs = append(seqs, s)
				}
				ms, err := store.Messages(ctx, c.ID, seqs)
				if err != nil {
					return fail(fmt.Errorf("search: rebuild: load messages of %s: %w", c.ID, err))
				}
				b := Batch{Watermarks: map[string]int64{c.ID: hi}}
				for _, s := range seqs {
					if m, ok := ms[s]; ok && m.DeletedAt == nil {
						b.Upserts = append(b.Upserts, Message{ConversationID: c.ID, Seq: s, SenderID: m.SenderID, Body: m.Body, SentAt: m.SentAt})
					}
				}
				if err := gen.Apply(ctx, b); err != nil {
					return fail(err)
				}
				st.Messages += len(b.Upserts)
			}
			if c.LastSeq == 0 {
				if err := gen.Apply(ctx, Batch{Watermarks: map[string]int64{c.ID: 0}}); err != nil {
					return fail(err)
				}
			}
			st.Conversations++
		}
		log.Info("rebuild: progress", "conversations", st.Conversations, "messages", st.Messages)
	}
	var hides []Hide
	flushHides := func() error {
		if len(hides) == 0 {
			return nil
		}
		err := gen.Apply(ctx, Batch{Hides: hides})
		st.Hides += len(hides)
		hides = hides[:0]
		return err
	}
	if err := r.Hides(ctx, func(h Hide) error {
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
	var userIDs []string
	flushUsers := func() error {
		if len(userIDs) == 0 {
			return nil
		}
		us, err := store.Users(ctx, userIDs)
		if err != nil {
			return fmt.Errorf("search: rebuild: load users: %w", err)
		}
		b := Batch{}
		for _, u := range us {
			b.Users = append(b.Users, User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName})
		}
		st.Users += len(b.Users)
		userIDs = userIDs[:0]
		return gen.Apply(ctx, b)
	}
	if err := r.UserIDs(ctx, func(id string) error {
		userIDs = append(userIDs, id)
		if len(userIDs) == 1000 {
			return flushUsers()
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	if err := flushUsers(); err != nil {
		return fail(err)
	}
	if err := gen.Promote(ctx); err != nil {
		return fail(err)
	}
	return st, nil
}
