package chat

import (
	"context"
	"fmt"
	"slices"
	"time"

	"messenger/storage"
)

// PrivacyUpdate changes some of my settings; nil fields stay as they are.
type PrivacyUpdate struct {
	LastSeen            *storage.Audience
	ReadReceipts        *bool
	Typing              *bool
	DirectConversations *storage.Audience
}

// normalized fills a stored (or absent) value's defaults in.
func normalized(p storage.PrivacySettings) storage.PrivacySettings {
	if p.LastSeen == "" {
		p.LastSeen = storage.AudienceEveryone
	}
	if p.DirectConversations == "" {
		p.DirectConversations = storage.AudienceEveryone
	}
	return p
}

// privacyOfMany returns the settings of each user, defaults included.
func (s *Service) privacyOfMany(ctx context.Context, ids []string) (map[string]storage.PrivacySettings, error) {
	got, err := s.store.PrivacySettings(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("chat: privacy settings: %w", err)
	}
	out := make(map[string]storage.PrivacySettings, len(ids))
	for _, id := range ids {
		out[id] = normalized(got[id])
	}
	return out, nil
}

func (s *Service) privacyOf(ctx context.Context, id string) (storage.PrivacySettings, error) {
	m, err := s.privacyOfMany(ctx, []string{id})
	return m[id], err
}

// Privacy returns my privacy settings.
func (s *Service) Privacy(ctx context.Context, me string) (storage.PrivacySettings, error) {
	return s.privacyOf(ctx, me)
}

// UpdatePrivacy changes my settings and returns them all. A bad value
// changes nothing.
func (s *Service) UpdatePrivacy(ctx context.Context, me string, u PrivacyUpdate) (storage.PrivacySettings, error) {
	if u.LastSeen != nil && !slices.Contains([]storage.Audience{storage.AudienceEveryone, storage.AudienceContacts, storage.AudienceNobody}, *u.LastSeen) {
		return storage.PrivacySettings{}, badInput("lastSeen", "lastSeen must be EVERYONE, CONTACTS or NOBODY")
	}
	if u.DirectConversations != nil && *u.DirectConversations != storage.AudienceEveryone && *u.DirectConversations != storage.AudienceContacts {
		return storage.PrivacySettings{}, badInput("directConversations", "directConversations must be EVERYONE or CONTACTS")
	}
	// Two devices changing different settings at once must not undo each
	// other (in this process; across a fleet the last write wins).
	defer s.messages.lock("privacy:" + me)()
	p, err := s.privacyOf(ctx, me)
	if err != nil {
		return p, err
	}
	lastSeen := p.LastSeen
	if u.LastSeen != nil {
		p.LastSeen = *u.LastSeen
	}
	if u.DirectConversations != nil {
		p.DirectConversations = *u.DirectConversations
	}
	if u.ReadReceipts != nil {
		p.HideReadReceipts = !*u.ReadReceipts
	}
	if u.Typing != nil {
		p.HideTyping = !*u.Typing
	}
	p.UpdatedAt = s.now()
	if err := s.store.SetPrivacySettings(ctx, me, p); err != nil {
		return p, fmt.Errorf("chat: update privacy of %s: %w", me, err)
	}
	if p.LastSeen != lastSeen {
		s.lastSeenChanged(ctx, me, p.LastSeen)
	}
	return p, nil
}

// lastSeenChanged tells my contacts my presence as they may now see it:
// offline when I hide it from everyone, my real state otherwise (every
// contact may see it under CONTACTS too).
func (s *Service) lastSeenChanged(ctx context.Context, me string, now storage.Audience) {
	ctx = context.WithoutCancel(ctx)
	s.goBackground(func() {
		if now != storage.AudienceNobody {
			s.announcePresence(ctx, me)
			return
		}
		to, err := s.contacts(ctx, me, maxPresenceAudience)
		if err == nil && len(to) > 0 {
			s.signal(ctx, to, &PresenceUpdated{UserID: me})
		}
	})
}

// PresenceFor is a user's presence as viewer may see it: hidden (offline,
// never seen) when they are blocked either way, or when the user's
// lastSeen setting excludes viewer. Everyone sees their own.
func (s *Service) PresenceFor(ctx context.Context, viewer, userID string) (online bool, lastSeen *time.Time) {
	if viewer != userID {
		ok, err := s.maySeePresence(ctx, viewer, userID)
		if err != nil {
			s.cfg.Logger.Warn("privacy: presence hidden, rules unreadable", "user", userID, "err", err)
			return false, nil
		}
		if !ok {
			return false, nil
		}
	}
	return s.Presence(ctx, userID)
}

func (s *Service) maySeePresence(ctx context.Context, viewer, userID string) (bool, error) {
	if blocked, err := s.Blocked(ctx, viewer, userID); err != nil || blocked {
		return false, err
	}
	p, err := s.privacyOf(ctx, userID)
	if err != nil {
		return false, err
	}
	switch p.LastSeen {
	case storage.AudienceNobody:
		return false, nil
	case storage.AudienceContacts:
		return s.areContacts(ctx, viewer, userID)
	}
	return true, nil
}

// presenceAudience is who of my contacts hears my presence changes.
func (s *Service) presenceAudience(ctx context.Context, me string, contacts []string) []string {
	p, err := s.privacyOf(ctx, me)
	if err != nil {
		s.cfg.Logger.Warn("privacy: presence not announced, settings unreadable", "user", me, "err", err)
		return nil
	}
	if p.LastSeen == storage.AudienceNobody {
		return nil
	}
	// contacts share a conversation with me: CONTACTS allows them all.
	return s.withoutBlocked(ctx, me, contacts)
}

// typingAudience is who of to sees me typing.
func (s *Service) typingAudience(ctx context.Context, me string, to []string) []string {
	p, err := s.privacyOf(ctx, me)
	if err != nil || p.HideTyping {
		return nil
	}
	return s.withoutBlocked(ctx, me, to)
}

// cursorEventAudience is who of to hears that my cursor of kind moved in
// c: never those blocked either way; a read only by my own devices when I
// hide read receipts, and in a direct conversation not by someone who
// hides theirs (the rule is reciprocal).
func (s *Service) cursorEventAudience(ctx context.Context, me string, c storage.Conversation, kind storage.CursorKind, to []string) []string {
	to = s.withoutBlocked(ctx, me, to)
	if kind != storage.Read {
		return to
	}
	ps, err := s.privacyOfMany(ctx, to)
	if err != nil {
		s.cfg.Logger.Warn("privacy: read event kept to its author, settings unreadable", "user", me, "err", err)
		ps = map[string]storage.PrivacySettings{}
	}
	mine, ok := ps[me]
	if !ok {
		if mine, err = s.privacyOf(ctx, me); err != nil {
			mine.HideReadReceipts = true
		}
	}
	return slices.DeleteFunc(slices.Clone(to), func(id string) bool {
		if id == me {
			return false
		}
		p, ok := ps[id]
		return !ok || mine.HideReadReceipts || (c.Kind == storage.Direct && p.HideReadReceipts)
	})
}

// ReceiptsVisible reports whether viewer may see who read what in c, and
// when, from anyone: false in a direct conversation when they are blocked
// either way or either of them hides read receipts. Groups always show
// counts; their lists leave out members who hide theirs (VisibleReceipts).
func (s *Service) ReceiptsVisible(ctx context.Context, viewer string, c storage.Conversation) (bool, error) {
	if c.Kind != storage.Direct {
		return true, nil
	}
	peer := directPeer(c, viewer)
	if blocked, err := s.Blocked(ctx, viewer, peer); err != nil || blocked {
		return false, err
	}
	ps, err := s.privacyOfMany(ctx, []string{viewer, peer})
	if err != nil {
		return false, err
	}
	return !ps[viewer].HideReadReceipts && !ps[peer].HideReadReceipts, nil
}

// receiptVisible reports whether viewer may see userID's receipt of kind
// in c.
func (s *Service) receiptVisible(ctx context.Context, viewer, userID string, c storage.Conversation, kind storage.CursorKind) (bool, error) {
	if viewer == userID {
		return true, nil
	}
	if blocked, err := s.Blocked(ctx, viewer, userID); err != nil || blocked {
		return false, err
	}
	if kind != storage.Read {
		return true, nil
	}
	ps, err := s.privacyOfMany(ctx, []string{viewer, userID})
	if err != nil {
		return false, err
	}
	if ps[userID].HideReadReceipts {
		return false, nil
	}
	return c.Kind != storage.Direct || !ps[viewer].HideReadReceipts, nil
}

// ReceiptFor is ReceiptOf as viewer may see it: the times viewer may not
// see (receiptVisible) are left out.
func (s *Service) ReceiptFor(ctx context.Context, viewer string, m storage.Message, userID string) (Receipt, error) {
	r, err := s.ReceiptOf(ctx, m, userID)
	if err != nil || (r.ReadAt == nil && r.DeliveredAt == nil) {
		return r, err
	}
	c, err := s.conversation(ctx, m.ConversationID)
	if err != nil {
		return r, err
	}
	if ok, err := s.receiptVisible(ctx, viewer, userID, c, storage.Read); err != nil || !ok {
		r.ReadAt = nil
	}
	if ok, err := s.receiptVisible(ctx, viewer, userID, c, storage.Delivered); err != nil || !ok {
		r.DeliveredAt = nil
	}
	return r, nil
}

// ReceiptsFor pages Receipts as viewer may see them: without the members
// blocked either way, and for reads without those who hide read receipts
// (and nobody's in a direct conversation where receipts are off). A page
// may be shorter than first after reading ten underlying pages.
func (s *Service) ReceiptsFor(ctx context.Context, viewer string, m storage.Message, kind storage.CursorKind, first int, afterUserID string) ([]storage.Receipt, bool, error) {
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	c, err := s.conversation(ctx, m.ConversationID)
	if err != nil {
		return nil, false, err
	}
	if kind == storage.Read {
		if ok, err := s.ReceiptsVisible(ctx, viewer, c); err != nil || !ok {
			return nil, false, err
		}
	}
	blocks, err := s.blockSet(ctx, viewer)
	if err != nil {
		return nil, false, err
	}
	var out []storage.Receipt
	after := afterUserID
	for range 10 {
		rs, err := s.store.Receipts(ctx, m.ConversationID, m.Seq, kind, after, first+1)
		if err != nil {
			return nil, false, fmt.Errorf("chat: receipts: %w", err)
		}
		hidden := map[string]bool{}
		if kind == storage.Read && len(rs) > 0 {
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = r.UserID
			}
			ps, err := s.privacyOfMany(ctx, ids)
			if err != nil {
				return nil, false, err
			}
			for id, p := range ps {
				hidden[id] = p.HideReadReceipts && id != viewer
			}
		}
		for _, r := range rs {
			after = r.UserID
			if blocks[r.UserID] || hidden[r.UserID] {
				continue
			}
			if len(out) == first {
				return out, true, nil
			}
			out = append(out, r)
		}
		if len(rs) <= first {
			return out, false, nil
		}
	}
	return out, true, nil
}
