package cassandra

import (
	"context"
	"errors"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// Block implements storage.Store: a read, then both rows in one logged
// batch, so blocks and blocked_by never disagree. Two concurrent blocks of
// the same pair may both report created; the rows are the same either way.
func (s *Store) Block(ctx context.Context, b storage.Block) (bool, error) {
	present, err := s.IsBlocking(ctx, b.BlockerID, b.BlockedID)
	if err != nil || present {
		return false, err
	}
	err = s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"INSERT INTO blocks (blocker_id, blocked_id, at) VALUES (?, ?, ?)", []any{b.BlockerID, b.BlockedID, cql.Timestamp(b.At)}},
		stmt{"INSERT INTO blocked_by (blocked_id, blocker_id) VALUES (?, ?)", []any{b.BlockedID, b.BlockerID}},
	).Exec()
	if err != nil {
		return false, wrap(err, "block %s by %s", b.BlockedID, b.BlockerID)
	}
	return true, nil
}

// Unblock implements storage.Store.
func (s *Store) Unblock(ctx context.Context, blockerID, blockedID string) (bool, error) {
	present, err := s.IsBlocking(ctx, blockerID, blockedID)
	if err != nil || !present {
		return false, err
	}
	if err := s.unblock(ctx, blockerID, blockedID); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Store) unblock(ctx context.Context, blockerID, blockedID string) error {
	err := s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", []any{blockerID, blockedID}},
		stmt{"DELETE FROM blocked_by WHERE blocked_id = ? AND blocker_id = ?", []any{blockedID, blockerID}},
	).Exec()
	return wrap(err, "unblock %s by %s", blockedID, blockerID)
}

// IsBlocking implements storage.Store.
func (s *Store) IsBlocking(ctx context.Context, blockerID, blockedID string) (bool, error) {
	var at time.Time
	err := s.query(ctx, "SELECT at FROM blocks WHERE blocker_id = ? AND blocked_id = ?", blockerID, blockedID).Scan(&at)
	if errors.Is(err, gocql.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, wrap(err, "read block of %s by %s", blockedID, blockerID)
	}
	return true, nil
}

// BlockedUsers implements storage.Store.
func (s *Store) BlockedUsers(ctx context.Context, blockerID, afterUserID string, limit int) ([]storage.Block, error) {
	q := "SELECT blocked_id, at FROM blocks WHERE blocker_id = ? AND blocked_id > ?"
	args := []any{blockerID, afterUserID}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	iter := s.query(ctx, q, args...).PageSize(1000).Iter()
	var out []storage.Block
	var b storage.Block
	var at time.Time
	for iter.Scan(&b.BlockedID, &at) {
		out = append(out, storage.Block{BlockerID: blockerID, BlockedID: b.BlockedID, At: utc(at)})
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list blocks of %s", blockerID)
	}
	return out, nil
}

// Blockers implements storage.Store.
func (s *Store) Blockers(ctx context.Context, userID string) ([]string, error) {
	iter := s.query(ctx, "SELECT blocker_id FROM blocked_by WHERE blocked_id = ?", userID).PageSize(1000).Iter()
	var out []string
	var id string
	for iter.Scan(&id) {
		out = append(out, id)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list blockers of %s", userID)
	}
	return out, nil
}

// PrivacySettings implements storage.Store: one single-partition read per
// id, in parallel.
func (s *Store) PrivacySettings(ctx context.Context, userIDs []string) (map[string]storage.PrivacySettings, error) {
	return lookupEach(ctx, userIDs, s.privacySettings)
}

func (s *Store) privacySettings(ctx context.Context, userID string) (storage.PrivacySettings, error) {
	var p storage.PrivacySettings
	var lastSeen, direct string
	var updated time.Time
	err := s.query(ctx, "SELECT last_seen, hide_read_receipts, hide_typing, direct_conversations, updated_at FROM privacy_settings WHERE user_id = ?", userID).
		Scan(&lastSeen, &p.HideReadReceipts, &p.HideTyping, &direct, &updated)
	if errors.Is(err, gocql.ErrNotFound) {
		return p, storage.ErrNotFound
	}
	if err != nil {
		return p, wrap(err, "read privacy settings of %s", userID)
	}
	p.LastSeen, p.DirectConversations, p.UpdatedAt = storage.Audience(lastSeen), storage.Audience(direct), utc(updated)
	return p, nil
}

// SetPrivacySettings implements storage.Store.
func (s *Store) SetPrivacySettings(ctx context.Context, userID string, p storage.PrivacySettings) error {
	err := s.query(ctx, "INSERT INTO privacy_settings (user_id, last_seen, hide_read_receipts, hide_typing, direct_conversations, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		userID, string(p.LastSeen), p.HideReadReceipts, p.HideTyping, string(p.DirectConversations), cql.Timestamp(p.UpdatedAt)).Exec()
	return wrap(err, "write privacy settings of %s", userID)
}

// ForgetPrivacy implements storage.Store: each block in both directions
// (both of its rows), then the settings. Safe to rerun after a failure.
func (s *Store) ForgetPrivacy(ctx context.Context, userID string) error {
	blocked, err := s.BlockedUsers(ctx, userID, "", 0)
	if err != nil {
		return err
	}
	for _, b := range blocked {
		if err := s.unblock(ctx, userID, b.BlockedID); err != nil {
			return err
		}
	}
	blockers, err := s.Blockers(ctx, userID)
	if err != nil {
		return err
	}
	for _, by := range blockers {
		if err := s.unblock(ctx, by, userID); err != nil {
			return err
		}
	}
	err = s.query(ctx, "DELETE FROM privacy_settings WHERE user_id = ?", userID).Exec()
	return wrap(err, "forget privacy settings of %s", userID)
}

// reportMonth is the partition of reports created at t: yyyymm in UTC.
func reportMonth(t time.Time) int {
	t = t.UTC()
	return t.Year()*100 + int(t.Month())
}

// AddReport implements storage.Store: the month is listed first, so a
// listing never misses a month that has a report.
func (s *Store) AddReport(ctx context.Context, r storage.Report) error {
	month := reportMonth(r.CreatedAt)
	if err := s.query(ctx, "INSERT INTO report_months (k, month) VALUES (0, ?)", month).Exec(); err != nil {
		return wrap(err, "add report %s: month", r.ID)
	}
	var edited *time.Time
	if r.MessageEditedAt != nil {
		t := cql.Timestamp(*r.MessageEditedAt)
		edited = &t
	}
	var sent *time.Time
	if !r.MessageSentAt.IsZero() {
		t := cql.Timestamp(r.MessageSentAt)
		sent = &t
	}
	err := s.batch(ctx, gocql.LoggedBatch, true,
		stmt{`INSERT INTO reports (month, created_at, id, reporter_id, user_id, reason, note, conversation_id, message_id, message_seq, message_body, message_sent_at, message_edited_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{month, cql.Timestamp(r.CreatedAt), r.ID, r.ReporterID, r.UserID, string(r.Reason), r.Note, r.ConversationID, r.MessageID, r.MessageSeq, r.MessageBody, sent, edited}},
		stmt{"INSERT INTO reports_by_reporter (reporter_id, created_at, id) VALUES (?, ?, ?)", []any{r.ReporterID, cql.Timestamp(r.CreatedAt), r.ID}},
	).Exec()
	return wrap(err, "add report %s", r.ID)
}

// CountReportsBy implements storage.Store.
func (s *Store) CountReportsBy(ctx context.Context, reporterID string, since time.Time) (int, error) {
	var n int
	err := s.query(ctx, "SELECT COUNT(*) FROM reports_by_reporter WHERE reporter_id = ? AND created_at >= ?", reporterID, cql.Timestamp(since)).Scan(&n)
	if err != nil {
		return 0, wrap(err, "count reports by %s", reporterID)
	}
	return n, nil
}

// Reports implements storage.Store: the months from afterAt's on, each a
// range of one partition, until limit is reached.
func (s *Store) Reports(ctx context.Context, afterAt time.Time, afterID string, limit int) ([]storage.Report, error) {
	if limit <= 0 {
		return nil, nil
	}
	from := 0
	if !afterAt.IsZero() {
		from = reportMonth(afterAt)
	}
	iter := s.query(ctx, "SELECT month FROM report_months WHERE k = 0 AND month >= ?", from).Iter()
	var months []int
	var m int
	for iter.Scan(&m) {
		months = append(months, m)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list report months")
	}
	var out []storage.Report
	for _, month := range months {
		q := s.query(ctx, `SELECT created_at, id, reporter_id, user_id, reason, note, conversation_id, message_id, message_seq, message_body, message_sent_at, message_edited_at
			FROM reports WHERE month = ? LIMIT ?`, month, limit-len(out))
		if month == from && !afterAt.IsZero() {
			q = s.query(ctx, `SELECT created_at, id, reporter_id, user_id, reason, note, conversation_id, message_id, message_seq, message_body, message_sent_at, message_edited_at
			FROM reports WHERE month = ? AND (created_at, id) > (?, ?) LIMIT ?`, month, cql.Timestamp(afterAt), afterID, limit-len(out))
		}
		iter := q.Iter()
		for {
			var r storage.Report
			var created, sent, edited time.Time
			var reason string
			if !iter.Scan(&created, &r.ID, &r.ReporterID, &r.UserID, &reason, &r.Note, &r.ConversationID, &r.MessageID, &r.MessageSeq, &r.MessageBody, &sent, &edited) {
				break
			}
			r.CreatedAt, r.Reason, r.MessageSentAt, r.MessageEditedAt = utc(created), storage.ReportReason(reason), utc(sent), optTime(edited)
			out = append(out, r)
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "list reports of month %d", month)
		}
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}
