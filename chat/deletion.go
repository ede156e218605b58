package chat

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
)

// purgePage is how many messages one step of a deletion tombstones.
const purgePage = 200

// DeleteConversation deletes a group (owner only). Every member hears
// ConversationDeleted at once; then a job, resumable by any instance
// (ResumeDeletions), ends every membership (from then on nobody can read
// anything of it, search included: search is scoped by membership) and
// tombstones every message in seq order on the store, re-indexing each
// (search drops its text) and dropping its files (blobs). The conversation
// row and the tombstones stay, as for any message deleted for everyone.
func (s *Service) DeleteConversation(ctx context.Context, me, conversationID string) error {
	mine, _, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return err
	}
	if mine.Role != storage.RoleOwner {
		return forbidden("only the owner may delete the group")
	}
	ids, err := s.audience(ctx, conversationID)
	if err != nil {
		return err
	}
	d := storage.Deletion{ConversationID: conversationID, By: me, RequestedAt: s.now()}
	if err := s.store.SaveDeletion(ctx, d); err != nil {
		return fmt.Errorf("chat: record deletion: %w", err)
	}
	s.appendConversation(ctx, conversationID, ids, &ConversationDeleted{ConversationID: conversationID, ByID: me})
	s.goBackground(func() {
		if err := s.runDeletion(context.WithoutCancel(ctx), d); err != nil {
			s.cfg.Logger.Warn("deletion paused; the sweeper resumes it", "conversation", conversationID, "err", err)
		}
	})
	return nil
}

// ResumeDeletions runs every unfinished deletion to its end (each instance
// calls it with its outbox sweep; two running one job at once do the same
// idempotent steps). It returns how many it finished.
func (s *Service) ResumeDeletions(ctx context.Context) (int, error) {
	ds, err := s.store.PendingDeletions(ctx)
	if err != nil {
		return 0, fmt.Errorf("chat: pending deletions: %w", err)
	}
	done := 0
	for _, d := range ds {
		if err := s.runDeletion(ctx, d); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// runDeletion does what is left of d, saving progress after each step.
func (s *Service) runDeletion(ctx context.Context, d storage.Deletion) error {
	conv := d.ConversationID
	if !d.MembersRemoved {
		ids, err := s.memberIDs(ctx, conv)
		if err != nil {
			return err
		}
		_, started, err := s.streamState(ctx, conv)
		if err != nil {
			return fmt.Errorf("chat: delete %s: %w", conv, err)
		}
		for _, id := range ids {
			err := s.store.RemoveMember(ctx, conv, id, s.now())
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("chat: delete %s: remove %s: %w", conv, id, err)
			}
			if started {
				// Their next subscription does not read the stream.
				if err := s.store.SetStreamedMember(ctx, id, conv, false); err != nil {
					return fmt.Errorf("chat: delete %s: unlist %s: %w", conv, id, err)
				}
			}
		}
		d.MembersRemoved = true
		if err := s.store.SaveDeletion(ctx, d); err != nil {
			return fmt.Errorf("chat: delete %s: %w", conv, err)
		}
	}
	c, err := s.conversation(ctx, conv)
	if err != nil {
		return err
	}
	for d.PurgedSeq < c.LastSeq {
		to := min(d.PurgedSeq+purgePage, c.LastSeq)
		if err := s.purge(ctx, conv, d.PurgedSeq+1, to); err != nil {
			return err
		}
		d.PurgedSeq = to
		if err := s.store.SaveDeletion(ctx, d); err != nil {
			return fmt.Errorf("chat: delete %s: %w", conv, err)
		}
	}
	if err := s.store.DeletionDone(ctx, conv); err != nil {
		return fmt.Errorf("chat: delete %s: %w", conv, err)
	}
	return nil
}

// purge tombstones messages from..to of conv, drops their files and
// re-indexes them.
func (s *Service) purge(ctx context.Context, conv string, from, to int64) error {
	seqs := make([]int64, 0, to-from+1)
	for seq := from; seq <= to; seq++ {
		seqs = append(seqs, seq)
	}
	msgs, err := s.store.Messages(ctx, conv, seqs)
	if err != nil {
		return fmt.Errorf("chat: delete %s: read messages: %w", conv, err)
	}
	now := s.now()
	a := s.attachmentsPort()
	for _, seq := range seqs {
		m, ok := msgs[seq]
		if !ok || m.DeletedAt != nil {
			continue
		}
		m.Body, m.DeletedAt = "", &now
		if err := s.store.UpdateMessage(ctx, m); err != nil {
			return fmt.Errorf("chat: delete %s: tombstone %d: %w", conv, seq, err)
		}
		if a != nil {
			if err := a.DropAttachments(ctx, m); err != nil {
				return fmt.Errorf("chat: delete %s: drop files of %d: %w", conv, seq, err)
			}
		}
	}
	s.indexMessages(conv, seqs...)
	return nil
}
