package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/realtime"
	"messenger/storage"
)

// Ordered fan-out. Every member's log gets a conversation's messages in seq
// order, although concurrent senders (goroutines here, API instances
// elsewhere) race between their durable write and their append. After its
// write, a send prepares its event (members, encoding) and then waits for
// its turn: the conversation's fan-outs are done up to seq-1
// (realtime.Turns, a watermark per conversation). It appends, and marks its
// seq done. Only the append itself is ordered: no lock is held across the
// durable write, and a send whose predecessor is already done (a direct
// conversation with one sender at a time: the common case) does not wait.
//
// A sender may die between its write and its append. Its successors wait
// FanOutPatience without progress, then take over: they read the missing
// messages from the store and append them in order with Log.AppendOnce
// (which adds an event only where it is missing, so a sender that was
// only slow to reach its turn finds its event there and adds nothing),
// mark them done and go on. An append that itself runs longer than the
// patience can still be doubled by a takeover: the patience must exceed
// the longest append. A message sent more than takeOverHorizon ago is never taken over: it
// was delivered, or it is pending in the outbox, whose sweeper replays it.
// The sweeper's replays mark their message done too, so a conversation
// whose last sender died does not stay stalled.

// floorScan bounds the messages before a send that its fan-out looks at
// when it must find where the conversation's fan-outs stand.
const floorScan = 32

// takeOverHorizon: older messages are never taken over (see above).
const takeOverHorizon = 10 * time.Minute

// fanOut delivers a message just created by this send to its members, in
// seq order; on failure it stays pending in the outbox. It reports whether
// every member's log has the message, for the caller to confirm it
// (confirmFanOutNow, in the send's one background task), and the member
// ids it read (nil: not read).
func (s *Service) fanOut(ctx context.Context, m storage.Message) (delivered bool, memberIDs []string) {
	ctx = context.WithoutCancel(ctx) // durable already: it goes out whatever the client does
	ids, ev, err := s.messageEvent(ctx, m)
	if err != nil {
		s.cfg.Logger.Warn("fan-out deferred to the outbox", "message", m.ID, "err", err)
		return false, nil
	}
	done, err := s.waitTurn(ctx, m.ConversationID, m.Seq, s.cfg.FanOutPatience)
	switch {
	case err != nil:
		s.cfg.Logger.Warn("fan-out order unknown: appending anyway", "message", m.ID, "err", err)
	case done >= m.Seq:
		// A successor took this send over while it was slow: add the
		// event only where the takeover did not.
		if err := s.replayMessage(ctx, m); err != nil {
			s.cfg.Logger.Warn("fan-out deferred to the outbox", "message", m.ID, "err", err)
			return false, nil
		}
		return true, nil
	case done < m.Seq-1:
		s.takeOver(ctx, m.ConversationID, done+1, m.Seq-1)
	}
	keys := s.messageKeys(ctx, m.ConversationID, ids)
	if err := s.log.Append(ctx, keys, ev); err != nil {
		// Not done: successors take it over, or the sweeper replays it.
		s.cfg.Logger.Warn("fan-out deferred to the outbox", "message", m.ID, "recipients", len(keys), "err", err)
		return false, nil
	}
	s.turns.Done(ctx, m.ConversationID, m.Seq)
	return true, ids
}

// messageEvent returns the recipients and the event of a created message.
// The members of a conversation whose stream is started (known here) are
// not read: its messages go to the stream (messageKeys).
func (s *Service) messageEvent(ctx context.Context, m storage.Message) ([]string, realtime.Event, error) {
	var ids []string
	if _, streamed := s.started.m.Load(m.ConversationID); !streamed {
		var err error
		if ids, err = s.memberIDs(ctx, m.ConversationID); err != nil {
			return nil, realtime.Event{}, err
		}
	}
	ev, err := encode(&MessageAdded{Message: &m})
	if err != nil {
		return nil, ev, fmt.Errorf("chat: encode %s: %w", m.ID, err)
	}
	ev.ID = m.ID
	return ids, ev, nil
}

// waitTurn waits (see realtime.Turns.Wait) until the fan-outs of conv are
// done up to n-1. A conversation the turns know nothing of (new, idle for
// long, or sent to before this process started) starts from fanOutFloor:
// messages sent within FanOutGrace (or the patience, if longer) may still
// be in flight; older ones are delivered or the outbox's.
func (s *Service) waitTurn(ctx context.Context, conv string, n int64, patience time.Duration) (int64, error) {
	done, err := s.turns.Wait(ctx, conv, n, patience)
	if !errors.Is(err, realtime.ErrUnknownKey) {
		return done, err
	}
	s.turns.Done(ctx, conv, s.fanOutFloor(ctx, conv, n, max(s.cfg.FanOutGrace, patience)))
	return s.turns.Wait(ctx, conv, n, patience)
}

// fanOutFloor is the newest seq below n of conv whose fan-out can no
// longer be in flight: sent more than horizon ago (by then its sender has
// fanned it out, or died and left it to a takeover or the outbox). It
// reads at most floorScan messages; older ones count as done. If the
// store cannot tell, nothing is waited for.
func (s *Service) fanOutFloor(ctx context.Context, conv string, n int64, horizon time.Duration) int64 {
	lo := max(1, n-floorScan)
	if lo >= n {
		return n - 1
	}
	seqs := make([]int64, 0, n-lo)
	for k := lo; k < n; k++ {
		seqs = append(seqs, k)
	}
	got, err := s.store.Messages(ctx, conv, seqs)
	if err != nil {
		s.cfg.Logger.Warn("fan-out: cannot tell which fan-outs are in flight", "conversation", conv, "err", err)
		return n - 1
	}
	cutoff := time.Now().Add(-horizon)
	for k := n - 1; k >= lo; k-- {
		if m, ok := got[k]; !ok || m.SentAt.Before(cutoff) {
			return k
		}
	}
	return lo - 1
}

// takeOver fans out, in order and idempotently, the messages from..to of
// conv whose senders did not finish their fan-out (at most the floorScan
// newest, sent within takeOverHorizon), and marks them done. A message
// that cannot be replayed now is left to the outbox: it arrives late
// rather than stall the conversation.
func (s *Service) takeOver(ctx context.Context, conv string, from, to int64) {
	defer s.turns.Done(ctx, conv, to)
	from = max(from, to-floorScan+1)
	seqs := make([]int64, 0, to-from+1)
	for k := from; k <= to; k++ {
		seqs = append(seqs, k)
	}
	got, err := s.store.Messages(ctx, conv, seqs)
	if err != nil {
		s.cfg.Logger.Warn("fan-out takeover failed: left to the outbox", "conversation", conv, "from", from, "to", to, "err", err)
		return
	}
	cutoff := time.Now().Add(-takeOverHorizon)
	for _, k := range seqs {
		m, ok := got[k]
		if !ok || m.SentAt.Before(cutoff) {
			continue
		}
		if err := s.replayMessage(ctx, m); err != nil {
			s.cfg.Logger.Warn("fan-out takeover failed: left to the outbox", "message", m.ID, "err", err)
			continue
		}
		s.turns.Done(ctx, conv, k)
		s.confirmFanOut(m)
	}
	s.cfg.Logger.Info("fan-out taken over from stalled senders", "conversation", conv, "from", from, "to", to)
}

// replayMessage makes m whole (its attachments bound) and appends its
// event to the logs of the members who joined before it that lack it (to
// the conversation's stream, once started: a message from before the
// start replayed after it may then reach its members twice, never zero
// times).
func (s *Service) replayMessage(ctx context.Context, m storage.Message) error {
	if err := s.bindAttachments(ctx, m); err != nil {
		return fmt.Errorf("chat: replay %s: %w: %w", m.ID, errNotWhole, err)
	}
	ids, err := s.replayKeys(ctx, m)
	if err != nil {
		return fmt.Errorf("chat: replay %s: %w", m.ID, err)
	}
	ev, err := encode(&MessageAdded{Message: &m})
	if err != nil {
		return fmt.Errorf("chat: replay %s: %w", m.ID, err)
	}
	ev.ID = m.ID
	if err := s.log.AppendOnce(ctx, ids, ev, m.SentAt.Add(-clockSkew)); err != nil {
		return fmt.Errorf("chat: replay %s: %w", m.ID, err)
	}
	return nil
}

// replayKeys is where a replay of m goes: the conversation's stream once
// started, else the logs of the members who joined before m.
func (s *Service) replayKeys(ctx context.Context, m storage.Message) ([]string, error) {
	_, started, err := s.streamState(ctx, m.ConversationID)
	if err != nil {
		return nil, err
	}
	if started {
		return []string{StreamKey(m.ConversationID)}, nil
	}
	var ids []string
	err = storage.EachMemberPage(ctx, s.store, m.ConversationID, func(members []storage.Member) error {
		for _, mem := range members {
			if mem.JoinedSeq < m.Seq { // who joined later never sees it
				ids = append(ids, mem.UserID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return ids, nil
}
