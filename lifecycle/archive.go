package lifecycle

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"messenger/storage"
)

// The archive is one zip file:
//
//	profile.json        the account
//	sessions.json       the sessions (when the sessions layer is wired)
//	conversations.json  each conversation the user is in: kind, title,
//	                    their role, when they joined, their read and
//	                    delivered positions (the receipts they gave)
//	messages.json       every message they sent there, oldest first per
//	                    conversation (erased ones without a body)
//	reactions.json      every reaction they left on those conversations'
//	                    messages
//	files/...           the files attached to those messages (when the
//	                    media layer is wired)
//
// Nothing of anyone else's private data: no one else's messages, profile
// beyond ids, or settings.

type archiveProfile struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"displayName"`
	CreatedAt   time.Time `json:"createdAt"`
}

type archiveConversation struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Title        string    `json:"title,omitempty"`
	Role         string    `json:"role"`
	JoinedAt     time.Time `json:"joinedAt"`
	ReadSeq      int64     `json:"readSeq"`
	DeliveredSeq int64     `json:"deliveredSeq"`
}

type archiveMessage struct {
	ID              string     `json:"id"`
	ConversationID  string     `json:"conversationId"`
	Seq             int64      `json:"seq"`
	ClientMessageID string     `json:"clientMessageId,omitempty"`
	Body            string     `json:"body"`
	SentAt          time.Time  `json:"sentAt"`
	EditedAt        *time.Time `json:"editedAt,omitempty"`
	DeletedAt       *time.Time `json:"deletedAt,omitempty"`
}

type archiveReaction struct {
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	Emoji          string `json:"emoji"`
}

// WriteArchive writes userID's data archive to w (see the layout above).
// Messages are read a page at a time: memory does not grow with history.
func (s *Service) WriteArchive(ctx context.Context, userID string, w io.Writer) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	z := zip.NewWriter(w)
	put := func(name string, v any) error {
		f, err := z.Create(name)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if err := put("profile.json", archiveProfile{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, CreatedAt: u.CreatedAt}); err != nil {
		return fmt.Errorf("lifecycle: archive profile: %w", err)
	}
	if s.cfg.SessionList != nil {
		ss, err := s.cfg.SessionList.ExportSessions(ctx, userID)
		if err != nil {
			return fmt.Errorf("lifecycle: archive sessions: %w", err)
		}
		if err := put("sessions.json", ss); err != nil {
			return err
		}
	}
	convIDs, err := s.store.UserConversationIDs(ctx, userID)
	if err != nil {
		return fmt.Errorf("lifecycle: archive conversations: %w", err)
	}
	slices.Sort(convIDs)
	convs, err := s.store.Conversations(ctx, convIDs)
	if err != nil {
		return fmt.Errorf("lifecycle: archive conversations: %w", err)
	}
	out := make([]archiveConversation, 0, len(convIDs))
	for _, id := range convIDs {
		c, ok := convs[id]
		m, err := s.store.Member(ctx, id, userID)
		if !ok || err != nil {
			continue // left since it was listed
		}
		out = append(out, archiveConversation{ID: id, Kind: string(c.Kind), Title: c.Title, Role: string(m.Role), JoinedAt: m.JoinedAt,
			ReadSeq: max(m.ReadSeq, m.JoinedSeq), DeliveredSeq: max(m.DeliveredSeq, m.JoinedSeq)})
	}
	if err := put("conversations.json", out); err != nil {
		return err
	}
	var reactions []archiveReaction
	f, err := z.Create("messages.json")
	if err != nil {
		return err
	}
	if err := s.archiveMessages(ctx, userID, convIDs, f, &reactions); err != nil {
		return err
	}
	if reactions == nil {
		reactions = []archiveReaction{}
	}
	if err := put("reactions.json", reactions); err != nil {
		return err
	}
	if s.cfg.Files != nil {
		if err := s.archiveFiles(ctx, userID, convIDs, z); err != nil {
			return err
		}
	}
	return z.Close()
}

// archiveMessages streams the messages userID sent as one JSON array, and
// collects their reactions on every message of those conversations.
func (s *Service) archiveMessages(ctx context.Context, userID string, convIDs []string, w io.Writer, reactions *[]archiveReaction) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first := true
	for _, c := range convIDs {
		after := int64(0)
		for {
			page, err := s.store.ListMessages(ctx, c, "", after, 0, erasePage, false)
			if err != nil {
				return fmt.Errorf("lifecycle: archive history of %s: %w", c, err)
			}
			seqs := make([]int64, 0, len(page))
			for _, m := range page {
				after = m.Seq
				seqs = append(seqs, m.Seq)
				if m.SenderID != userID {
					continue
				}
				b, err := json.Marshal(archiveMessage{ID: m.ID, ConversationID: c, Seq: m.Seq, ClientMessageID: m.ClientMessageID,
					Body: m.Body, SentAt: m.SentAt, EditedAt: m.EditedAt, DeletedAt: m.DeletedAt})
				if err != nil {
					return err
				}
				sep := ",\n"
				if first {
					sep, first = "\n", false
				}
				if _, err := io.WriteString(w, sep+string(b)); err != nil {
					return err
				}
			}
			if len(seqs) > 0 {
				mine, err := s.store.ReactionsBy(ctx, c, seqs, userID)
				if err != nil {
					return fmt.Errorf("lifecycle: archive reactions in %s: %w", c, err)
				}
				for _, seq := range seqs {
					for _, e := range mine[seq] {
						*reactions = append(*reactions, archiveReaction{ConversationID: c, Seq: seq, Emoji: e})
					}
				}
			}
			if len(page) < erasePage {
				break
			}
		}
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

// archiveFiles copies the files attached to the messages userID sent, a
// page of history at a time (a second pass: messages.json is written as
// one stream before).
func (s *Service) archiveFiles(ctx context.Context, userID string, convIDs []string, z *zip.Writer) error {
	for _, c := range convIDs {
		after := int64(0)
		for {
			page, err := s.store.ListMessages(ctx, c, "", after, 0, erasePage, false)
			if err != nil {
				return fmt.Errorf("lifecycle: archive history of %s: %w", c, err)
			}
			var mine []storage.Message
			for _, m := range page {
				after = m.Seq
				if m.SenderID == userID && m.DeletedAt == nil {
					mine = append(mine, m)
				}
			}
			if len(mine) > 0 {
				err := s.cfg.Files.AttachmentFiles(ctx, mine, func(name, _ string, r io.Reader) error {
					dst, err := z.Create("files/" + name)
					if err != nil {
						return err
					}
					_, err = io.Copy(dst, r)
					return err
				})
				if err != nil {
					return fmt.Errorf("lifecycle: archive files: %w", err)
				}
			}
			if len(page) < erasePage {
				break
			}
		}
	}
	return nil
}
