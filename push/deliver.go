package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"messenger/storage"
)

// deliver sends one notification to one device and settles the job: acked
// when sent, gone (the device is deleted) or refused; retried with backoff
// when the provider failed transiently, until MaxAttempts.
func (s *Service) deliver(ctx context.Context, l Leased) {
	j := l.Job
	n, d, skip, err := s.prepare(ctx, j)
	if err != nil {
		s.retry(ctx, l, "read", "", 0, err)
		return
	}
	if skip != "" {
		s.metrics.skipped(skip)
		s.ack(ctx, l)
		return
	}
	p := s.providers[d.Platform]
	if p == nil {
		s.metrics.dropped(d.Platform, "no_provider")
		s.ack(ctx, l)
		return
	}
	key := sentKey(n.MessageID, d.ID, j.Recalled)
	mine, err := s.queue.Begin(ctx, key)
	if err != nil {
		s.retry(ctx, l, "queue", d.Platform, 0, err)
		return
	}
	if !mine { // sent already, or another job for it is sending
		s.metrics.skipped("already_sent")
		s.ack(ctx, l)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	err = p.Send(sctx, d, n)
	cancel()
	if ferr := s.queue.Finish(ctx, key, err == nil); ferr != nil {
		s.cfg.Logger.Warn("push: sent marker not updated", "err", ferr)
	}
	var re *RetryError
	switch {
	case err == nil:
		s.metrics.sent(d.Platform, s.cfg.Now().Sub(j.SentAt))
		s.ack(ctx, l)
	case errors.Is(err, ErrGone):
		s.metrics.failed(d.Platform, "gone")
		if err := s.store.DeleteDevice(ctx, d.UserID, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.cfg.Logger.Warn("push: delete a gone device", "device", d.ID, "err", err)
		}
		s.cfg.Logger.Info("push: device unregistered by its provider; deleted", "user", d.UserID, "device", d.ID, "platform", d.Platform)
		s.ack(ctx, l)
	case errors.As(err, &re):
		s.retry(ctx, l, re.Reason, d.Platform, re.After, err)
	default:
		s.metrics.failed(d.Platform, reason(err))
		s.cfg.Logger.Warn("push: notification refused", "device", d.ID, "platform", d.Platform, "err", err)
		s.ack(ctx, l)
	}
}

func (s *Service) ack(ctx context.Context, l Leased) {
	if err := s.queue.Ack(ctx, l); err != nil {
		s.cfg.Logger.Warn("push: ack failed; the job will run again", "err", err)
	}
}

// retry puts the job back with exponential backoff and full jitter (at
// least after, the provider's Retry-After), or drops it after
// MaxAttempts.
func (s *Service) retry(ctx context.Context, l Leased, why string, pl storage.Platform, after time.Duration, cause error) {
	next := l.Job
	next.Attempt++
	if next.Attempt >= s.cfg.MaxAttempts {
		s.metrics.dropped(pl, why)
		s.cfg.Logger.Warn("push: dropped after the last attempt", "kind", l.Job.Kind, "attempts", next.Attempt, "err", cause)
		s.ack(ctx, l)
		return
	}
	s.metrics.retried(pl, why)
	wait := backoff(s.cfg.Backoff, s.cfg.MaxBackoff, l.Job.Attempt)
	wait = max(wait, after)
	if err := s.queue.Retry(ctx, l, next, s.cfg.Now().Add(wait)); err != nil {
		s.cfg.Logger.Warn("push: retry could not be queued; the lease will redeliver", "err", err)
	}
}

// backoff is base*2^attempt capped at most, with full jitter (a uniform
// wait between half of it and all of it).
func backoff(base, most time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d > most || d <= 0 {
		d = most
	}
	return d/2 + rand.N(d/2+1)
}

// prepare reads what one delivery needs. skip names why nothing is sent.
func (s *Service) prepare(ctx context.Context, j Job) (n Notification, d storage.Device, skip string, err error) {
	devices, err := s.store.Devices(ctx, j.UserID)
	if err != nil {
		return n, d, "", fmt.Errorf("push: devices of %s: %w", j.UserID, err)
	}
	found := false
	for _, x := range devices {
		if x.ID == j.DeviceID {
			d, found = x, true
		}
	}
	if !found {
		return n, d, "unregistered", nil
	}
	got, err := s.store.Messages(ctx, j.ConversationID, []int64{j.Seq})
	if err != nil {
		return n, d, "", fmt.Errorf("push: message %s/%d: %w", j.ConversationID, j.Seq, err)
	}
	m, ok := got[j.Seq]
	if !ok {
		return n, d, "no_message", nil
	}
	if m.DeletedAt != nil && !j.Recalled {
		return n, d, "recalled", nil // withdrawn before it was sent
	}
	if sent, err := s.queue.WasSent(ctx, sentKey(m.ID, d.ID, j.Recalled)); err != nil {
		return n, d, "", fmt.Errorf("push: sent marker: %w", err)
	} else if sent {
		return n, d, "already_sent", nil
	}
	n, err = s.notification(ctx, m, j)
	return n, d, "", err
}

// notification builds what the device shows: the group's title or the
// sender's name, the text (or only who wrote, without previews), the badge.
func (s *Service) notification(ctx context.Context, m storage.Message, j Job) (Notification, error) {
	convs, err := s.store.Conversations(ctx, []string{m.ConversationID})
	if err != nil {
		return Notification{}, fmt.Errorf("push: conversation %s: %w", m.ConversationID, err)
	}
	users, err := s.store.Users(ctx, []string{m.SenderID})
	if err != nil {
		return Notification{}, fmt.Errorf("push: sender %s: %w", m.SenderID, err)
	}
	ns, err := s.store.NotificationSettings(ctx, j.UserID)
	if err != nil {
		return Notification{}, fmt.Errorf("push: settings of %s: %w", j.UserID, err)
	}
	sender := users[m.SenderID].DisplayName
	if sender == "" {
		sender = "Someone"
	}
	n := Notification{ConversationID: m.ConversationID, MessageID: m.ID, ThreadID: m.ConversationID, CollapseID: m.ID, Recalled: j.Recalled}
	c := convs[m.ConversationID]
	group := c.Kind.IsGroup()
	switch {
	case group && c.Title != "":
		n.Title = c.Title
	default:
		n.Title = sender
	}
	switch {
	case j.Recalled:
		n.Body = "This message was deleted"
	case ns.HidePreview:
		n.Body = "New message from " + sender
		if !group {
			n.Body = "New message"
		}
	case group:
		n.Body = sender + ": " + m.Body
	default:
		n.Body = m.Body
	}
	if s.cfg.Unread != nil {
		if n.Badge, err = s.cfg.Unread.TotalUnread(ctx, j.UserID); err != nil {
			s.cfg.Logger.Warn("push: badge unknown", "user", j.UserID, "err", err)
		}
	}
	return n, nil
}
