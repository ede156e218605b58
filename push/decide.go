package push

import (
	"context"
	"fmt"
	"time"

	"messenger/storage"
)

// Who hears what. A member hears of a new message when all hold:
//   - it is not their own, and they joined before it;
//   - their level allows it: the member's level, or else their account
//     default, or else ALL. NONE never notifies; MENTIONS notifies only
//     when the message mentions them; a conversation muted (MutedUntil in
//     the future) behaves as MENTIONS unless the level is NONE, so a
//     mention still gets through a mute unless the user said never;
//   - they have not blocked the sender;
//   - they have no live subscription (per user, see below).
//
// Per user, not per device: presence is tracked per user, and a user
// reading on one device does not want the others to ring for what they
// see (what Slack and Telegram do while a desktop client is active). Their
// other devices catch up from the event log when opened. When presence
// cannot be read the user counts as offline.

// Verdict is why a member hears of a message or not.
type Verdict string

// The verdicts; only Notify sends.
const (
	Notify       Verdict = "notify"
	Own          Verdict = "own"
	JoinedLater  Verdict = "joined_later"
	LevelNone    Verdict = "level_none"
	NotMentioned Verdict = "not_mentioned"
	SenderBlock  Verdict = "blocked"
	Online       Verdict = "online"
)

// Facts are what the decision about one member reads.
type Facts struct {
	Own, JoinedLater   bool
	Level              storage.NotificationLevel // member's, "" = default
	DefaultLevel       storage.NotificationLevel // account's, "" = ALL
	Muted, Mentioned   bool
	Blocked, Connected bool
}

// Decide applies the rules above.
func Decide(f Facts) Verdict {
	level := f.Level
	if level == "" {
		level = f.DefaultLevel
	}
	if level == "" {
		level = storage.NotifyAll
	}
	switch {
	case f.Own:
		return Own
	case f.JoinedLater:
		return JoinedLater
	case level == storage.NotifyNone:
		return LevelNone
	case (level == storage.NotifyMentions || f.Muted) && !f.Mentioned:
		return NotMentioned
	case f.Blocked:
		return SenderBlock
	case f.Connected:
		return Online
	}
	return Notify
}

// sentKey names the notification of one message (or its recall) on one
// device, for the queue's sent markers.
func sentKey(messageID, deviceID string, recalled bool) string {
	if recalled {
		return messageID + "/" + deviceID + "/recall"
	}
	return messageID + "/" + deviceID
}

// expand turns a message (or recall) job into one delivery per device
// that should get it, enqueued in one call. It is safe to run twice:
// deliveries already sent are skipped by their markers.
func (s *Service) expand(ctx context.Context, j Job) error {
	got, err := s.store.Messages(ctx, j.ConversationID, []int64{j.Seq})
	if err != nil {
		return fmt.Errorf("push: read message %s/%d: %w", j.ConversationID, j.Seq, err)
	}
	m, ok := got[j.Seq]
	if !ok || (j.Kind == KindMessage && m.DeletedAt != nil) {
		return nil // gone, or recalled before anyone was told
	}
	members, err := s.candidates(ctx, m, j)
	if err != nil {
		return err
	}
	var out []Job
	now := s.cfg.Now()
	for _, mem := range members {
		if mem.UserID == m.SenderID || mem.JoinedSeq >= m.Seq {
			continue // cheap refusals first: no reads
		}
		var jobs []Job
		if j.Kind == KindRecall {
			jobs, err = s.recallDeliveries(ctx, m, mem.UserID, j)
		} else {
			jobs, err = s.deliveries(ctx, m, mem, now, j)
		}
		if err != nil {
			return err
		}
		out = append(out, jobs...)
	}
	if len(out) == 0 {
		return nil
	}
	if err := s.queue.Enqueue(ctx, out...); err != nil {
		return fmt.Errorf("push: enqueue deliveries of %s: %w", m.ID, err)
	}
	return nil
}

// deliveries decides for one member and returns a delivery per device.
func (s *Service) deliveries(ctx context.Context, m storage.Message, mem storage.Member, now time.Time, j Job) ([]Job, error) {
	ns, err := s.store.NotificationSettings(ctx, mem.UserID)
	if err != nil {
		return nil, fmt.Errorf("push: settings of %s: %w", mem.UserID, err)
	}
	f := Facts{
		Level: mem.NotificationLevel, DefaultLevel: ns.DefaultLevel,
		Muted: !mem.MutedUntil.IsZero() && now.Before(mem.MutedUntil),
	}
	if s.cfg.Mentions != nil {
		f.Mentioned = s.cfg.Mentions(m, mem.UserID)
	}
	if v := Decide(f); v != Notify { // level and mute, before any lookup
		s.metrics.decided(v)
		return nil, nil
	}
	if s.cfg.Blocks != nil {
		if f.Blocked, err = s.cfg.Blocks.Blocked(ctx, mem.UserID, m.SenderID); err != nil {
			return nil, fmt.Errorf("push: blocks of %s: %w", mem.UserID, err)
		}
	}
	v := Decide(f) // presence was asked first (candidates): offline
	s.metrics.decided(v)
	if v != Notify {
		return nil, nil
	}
	devices, err := s.store.Devices(ctx, mem.UserID)
	if err != nil {
		return nil, fmt.Errorf("push: devices of %s: %w", mem.UserID, err)
	}
	out := make([]Job, 0, len(devices))
	for _, d := range devices {
		out = append(out, Job{Kind: KindDelivery, ConversationID: m.ConversationID, Seq: m.Seq, UserID: d.UserID, DeviceID: d.ID, SentAt: j.SentAt})
	}
	return out, nil
}

// recallDeliveries replaces what a member's devices were sent about m.
func (s *Service) recallDeliveries(ctx context.Context, m storage.Message, userID string, j Job) ([]Job, error) {
	devices, err := s.store.Devices(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("push: devices of %s: %w", userID, err)
	}
	var out []Job
	for _, d := range devices {
		sent, err := s.queue.WasSent(ctx, sentKey(m.ID, d.ID, false))
		if err != nil {
			return nil, fmt.Errorf("push: sent marker: %w", err)
		}
		if sent {
			out = append(out, Job{Kind: KindDelivery, ConversationID: m.ConversationID, Seq: m.Seq, UserID: userID, DeviceID: d.ID, Recalled: true, SentAt: j.SentAt})
		}
	}
	return out, nil
}
