package chat

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"messenger/realtime"
	"messenger/storage"
)

// The fan-out outbox. The store records every created message as pending
// in the same write as the message (storage.Store.AppendMessage); any other
// event whose append fails is recorded then (DeferFanOut). Send
// fans the message out at once and then confirms it; a sweeper in every
// instance replays, with realtime.Log.AppendOnce, the messages still
// pending after FanOutGrace: their fan-out failed (the log was down), or the
// instance that wrote them died before fanning out or before confirming.
// AppendOnce adds the event only to the logs that lack it, so a replay of a
// fan-out that did happen, or two instances replaying at once, duplicate
// nothing.

// clockSkew is how far the clocks of API instances and of the log may
// differ: a replay looks for the event among those appended since the
// message's send time minus this.
const clockSkew = time.Minute

// sweepBatch bounds the pending fan-outs one sweep reads.
const sweepBatch = 500

// confirmFanOut marks a message's fan-out done, in the background: the
// sender need not wait for it, and if it is lost the sweeper's replay adds
// nothing.
func (s *Service) confirmFanOut(m storage.Message) {
	s.goBackground(func() { s.confirmFanOutNow(m, nil) })
}

// confirmFanOutNow hands a delivered message to the Notifier and marks its
// fan-out done; memberIDs (nil: unknown) are the members the fan-out read.
func (s *Service) confirmFanOutNow(m storage.Message, memberIDs []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.notifyCreated(ctx, m, memberIDs); err != nil {
		s.cfg.Logger.Warn("push not queued; the outbox will replay the message", "message", m.ID, "err", err)
		return
	}
	if err := s.store.FanOutDone(ctx, storage.PendingFanOutOf(m)); err != nil {
		s.cfg.Logger.Warn("fan-out confirmation failed; the outbox will replay it", "message", m.ID, "err", err)
	}
}

// sweepLoop replays pending fan-outs every FanOutSweep until stop closes.
func (s *Service) sweepLoop(stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.FanOutSweep)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		n, err := s.SweepFanOuts(ctx)
		if _, derr := s.ResumeDeletions(ctx); derr != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("deletion sweep failed", "err", derr)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("fan-out sweep failed", "replayed", n, "err", err)
		} else if n > 0 {
			s.cfg.Logger.Info("fan-out sweep replayed messages", "replayed", n)
		}
	}
}

// SweepFanOuts replays the fan-outs still pending FanOutGrace after their
// message was sent and confirms them; it returns how many it replayed.
// Every instance runs it periodically; it is exported for the reindex-like
// maintenance commands and for tests.
func (s *Service) SweepFanOuts(ctx context.Context) (int, error) {
	// The real clock, not cfg.Now: grace is about time really elapsed since
	// the send, and a test clock set ahead must not make fresh sends look old.
	pending, err := s.store.PendingFanOuts(ctx, time.Now().Add(-s.cfg.FanOutGrace), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("chat: read the fan-out outbox: %w", err)
	}
	done := 0
	var skipped error
	for _, p := range pending {
		err := s.replay(ctx, p)
		if errors.Is(err, errNotWhole) || errors.Is(err, errNotNotified) {
			// This message's attachments cannot be bound now, or the
			// Notifier cannot take it: it stays pending, and the others go on.
			skipped = cmp.Or(skipped, err)
			continue
		}
		if err != nil {
			return done, err
		}
		done++
	}
	return done, skipped
}

// errNotNotified marks a replay whose Notifier call failed (the push
// queue is down): the message stays pending for a later sweep.
var errNotNotified = errors.New("notifier unavailable")

// errNotWhole marks a replay refused because the message's attachments
// could not be bound (see Attachments.BindAttachments).
var errNotWhole = errors.New("attachments not bound")

// newEventID names an event for AppendOnce: unique enough among one user's
// events of the last minutes (96 random bits).
func newEventID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// deferFanOut records an event whose append failed, for the sweeper.
func (s *Service) deferFanOut(ctx context.Context, userIDs []string, ev realtime.Event, cause error) {
	err := s.store.DeferFanOut(ctx, storage.PendingFanOut{
		SentAt: time.Now().UTC().Truncate(time.Millisecond), EventID: ev.ID, UserIDs: userIDs, Type: ev.Type, Data: ev.Data,
	})
	if err != nil {
		s.cfg.Logger.Error("event lost: fan-out failed and could not be deferred", "type", ev.Type, "recipients", len(userIDs), "cause", cause, "err", err)
		return
	}
	s.cfg.Logger.Warn("fan-out deferred to the outbox", "type", ev.Type, "recipients", len(userIDs), "err", cause)
}

// replay appends one pending message's event to the logs of the members
// that should have it and lack it (or a deferred event to its recipients'
// logs), then confirms it.
func (s *Service) replay(ctx context.Context, p storage.PendingFanOut) error {
	if p.EventID != "" {
		ev := realtime.Event{ID: p.EventID, Type: p.Type, Data: p.Data}
		if err := s.log.AppendOnce(ctx, p.UserIDs, ev, p.SentAt.Add(-clockSkew)); err != nil {
			return fmt.Errorf("chat: replay event %s: %w", p.EventID, err)
		}
		if err := s.store.FanOutDone(ctx, p); err != nil {
			return fmt.Errorf("chat: replay event %s: confirm: %w", p.EventID, err)
		}
		return nil
	}
	id := storage.MessageID(p.ConversationID, p.Seq)
	got, err := s.store.Messages(ctx, p.ConversationID, []int64{p.Seq})
	if err != nil {
		return fmt.Errorf("chat: replay %s: %w", id, err)
	}
	m, ok := got[p.Seq]
	if !ok {
		// Claimed but not yet written (a Cassandra send that died half-way):
		// the next send to the conversation writes it, then a later sweep
		// fans it out. Keep it pending.
		return nil
	}
	// Pending messages are replayed oldest first, so those before this one
	// were replayed already or are done: mark it done, and senders of the
	// conversation waiting for it go on.
	if err := s.replayMessage(ctx, m); err != nil {
		return err
	}
	s.turns.Done(ctx, m.ConversationID, m.Seq)
	if err := s.notifyCreated(ctx, m, nil); err != nil {
		return fmt.Errorf("chat: replay %s: %w: %w", id, errNotNotified, err)
	}
	if err := s.store.FanOutDone(ctx, p); err != nil {
		return fmt.Errorf("chat: replay %s: confirm: %w", id, err)
	}
	return nil
}
