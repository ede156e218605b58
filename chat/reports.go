package chat

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/storage"
)

// Report is a user's report of another user or of a message, kept for
// moderators (see storage.Report: a reported message is copied in).
type Report = storage.Report

// The reasons a report may give.
const (
	ReasonSpam          storage.ReportReason = "SPAM"
	ReasonHarassment    storage.ReportReason = "HARASSMENT"
	ReasonHate          storage.ReportReason = "HATE"
	ReasonViolence      storage.ReportReason = "VIOLENCE"
	ReasonSexualContent storage.ReportReason = "SEXUAL_CONTENT"
	ReasonScam          storage.ReportReason = "SCAM"
	ReasonOther         storage.ReportReason = "OTHER"
)

var reportReasons = []storage.ReportReason{ReasonSpam, ReasonHarassment, ReasonHate, ReasonViolence, ReasonSexualContent, ReasonScam, ReasonOther}

const (
	// maxReportNote caps a report's note, in characters.
	maxReportNote = 1000
	// reportsPerHour is how many reports one user may make in any hour:
	// enough for someone being harassed by a few accounts, not for
	// flooding moderators.
	reportsPerHour = 20
)

// ReportUser reports another user.
func (s *Service) ReportUser(ctx context.Context, me, userID string, reason storage.ReportReason, note string) (Report, error) {
	r, err := s.newReport(ctx, me, reason, note)
	if err != nil {
		return r, err
	}
	if userID == me {
		return Report{}, badInput("userId", "you cannot report yourself")
	}
	if _, err := s.User(ctx, userID); err != nil {
		return Report{}, err
	}
	r.UserID = userID
	return r, s.addReport(ctx, r)
}

// ReportMessage reports a message I can see, copying it as it is now so
// that a later edit or deletion does not erase the evidence.
func (s *Service) ReportMessage(ctx context.Context, me, messageID string, reason storage.ReportReason, note string) (Report, error) {
	r, err := s.newReport(ctx, me, reason, note)
	if err != nil {
		return r, err
	}
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return Report{}, err
	}
	if m.SenderID == me {
		return Report{}, badInput("messageId", "you cannot report your own message")
	}
	r.UserID, r.ConversationID, r.MessageID, r.MessageSeq = m.SenderID, m.ConversationID, m.ID, m.Seq
	r.MessageBody, r.MessageSentAt, r.MessageEditedAt = m.Body, m.SentAt, m.EditedAt
	return r, s.addReport(ctx, r)
}

// newReport checks what every report shares and the reporter's rate.
func (s *Service) newReport(ctx context.Context, me string, reason storage.ReportReason, note string) (Report, error) {
	if !slices.Contains(reportReasons, reason) {
		return Report{}, badInput("reason", "reason must be one of SPAM, HARASSMENT, HATE, VIOLENCE, SEXUAL_CONTENT, SCAM, OTHER")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxReportNote || !utf8.ValidString(note) {
		return Report{}, badInput("note", fmt.Sprintf("note must be at most %d characters", maxReportNote))
	}
	now := s.now()
	n, err := s.store.CountReportsBy(ctx, me, now.Add(-time.Hour))
	if err != nil {
		return Report{}, fmt.Errorf("chat: count reports: %w", err)
	}
	if n >= reportsPerHour {
		return Report{}, RateLimitedUntil(fmt.Sprintf("at most %d reports an hour", reportsPerHour), now.Add(time.Hour))
	}
	// Version 7: ids of one millisecond still sort in creation order.
	rid, err := uuid.NewV7()
	if err != nil {
		return Report{}, fmt.Errorf("chat: report id: %w", err)
	}
	return Report{ID: rid.String(), ReporterID: me, Reason: reason, Note: note, CreatedAt: now}, nil
}

func (s *Service) addReport(ctx context.Context, r Report) error {
	if err := s.store.AddReport(ctx, r); err != nil {
		return fmt.Errorf("chat: add report: %w", err)
	}
	s.cfg.Logger.Info("report filed", "report", r.ID, "reason", r.Reason, "user", r.UserID)
	return nil
}

// ListReports pages every report, oldest first, for moderators (the admin
// CLI): at most limit (1-1000) after the cursor after ("" = from the
// first), and the cursor to continue with ("" when this was the last page).
func (s *Service) ListReports(ctx context.Context, limit int, after string) ([]Report, string, error) {
	if limit <= 0 || limit > 1000 {
		return nil, "", badInput("limit", "limit must be 1-1000")
	}
	var afterAt time.Time
	var afterID string
	if after != "" {
		ms, id, ok := strings.Cut(after, "_")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, "", badInput("after", "after is not a cursor ListReports returned")
		}
		afterAt, afterID = time.UnixMilli(n).UTC(), id
	}
	rs, err := s.store.Reports(ctx, afterAt, afterID, limit)
	if err != nil {
		return nil, "", fmt.Errorf("chat: list reports: %w", err)
	}
	next := ""
	if len(rs) == limit {
		last := rs[len(rs)-1]
		next = strconv.FormatInt(last.CreatedAt.UnixMilli(), 10) + "_" + last.ID
	}
	return rs, next, nil
}
