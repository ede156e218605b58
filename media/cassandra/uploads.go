package cassandra

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

// queueTTL keeps a sweeper queue entry this long past its due time (a
// backstop: entries are normally deleted when dealt with).
const queueTTL = 10 * 24 * time.Hour

const uploadColumns = "id, owner_id, filename, kind, content_type, width, height, duration_ms, size, ready, created_at, claim, message_id"

// scanUpload returns the scan destinations of uploadColumns and a function
// that finishes the Upload once scanned.
func scanUpload() ([]any, func() media.Upload) {
	var u media.Upload
	var kind string
	var durMS int64
	dest := []any{&u.ID, &u.OwnerID, &u.Filename, &kind, &u.ContentType, &u.Width, &u.Height, &durMS, &u.Size, &u.Ready, &u.CreatedAt, &u.Claim, &u.MessageID}
	return dest, func() media.Upload {
		out := u
		out.Kind = media.Kind(kind)
		out.Duration = time.Duration(durMS) * time.Millisecond
		out.CreatedAt = cql.Timestamp(out.CreatedAt)
		return out
	}
}

// PutUpload implements media.Store. It writes the upload's description
// only: Claim and MessageID belong to Claim and Attach, so a late
// description write can never undo a claim.
func (s *Store) PutUpload(ctx context.Context, u media.Upload) error {
	err := s.exec(ctx, []stmt{
		{`INSERT INTO media_uploads (id, owner_id, filename, kind, content_type, width, height, duration_ms, size, ready, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{u.ID, u.OwnerID, u.Filename, string(u.Kind), u.ContentType, u.Width, u.Height, u.Duration.Milliseconds(), u.Size, u.Ready, cql.Timestamp(u.CreatedAt)}},
		s.enqueue(&s.uploadQ, u.CreatedAt, u.ID, int(queueTTL.Seconds()), ""),
	})
	return wrap(err, "put upload %s", u.ID)
}

// Uploads implements media.Store.
func (s *Store) Uploads(ctx context.Context, ids []string) (map[string]media.Upload, error) {
	out := make(map[string]media.Upload, len(ids))
	var mu sync.Mutex
	err := cql.Parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		dest, finish := scanUpload()
		err := s.query(ctx, "SELECT "+uploadColumns+" FROM media_uploads WHERE id = ?", ids[i]).Scan(dest...)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return wrap(err, "read upload %s", ids[i])
		}
		u := finish()
		if u.OwnerID == "" { // a stray claim cell without a record
			return nil
		}
		mu.Lock()
		out[ids[i]] = u
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUpload implements media.Store.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	var created time.Time
	err := s.query(ctx, "SELECT created_at FROM media_uploads WHERE id = ?", id).Scan(&created)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil
	}
	if err != nil {
		return wrap(err, "read upload %s", id)
	}
	qs := []stmt{{"DELETE FROM media_uploads WHERE id = ?", []any{id}}, {"DELETE FROM media_waveforms WHERE upload_id = ?", []any{id}}}
	if !created.IsZero() {
		qs = append(qs, s.dequeue(&s.uploadQ, created, id))
	}
	return wrap(s.exec(ctx, qs), "delete upload %s", id)
}

// Claim implements media.Store. Each upload is claimed by its own
// lightweight transaction, in sorted order, so two claims over the same
// uploads meet at the first one they share and one of them wins outright.
// When one fails, the uploads this call took are released again (only if
// still unattached), so the claim is all or none.
func (s *Store) Claim(ctx context.Context, ids []string, claim string) error {
	order := slices.Clone(ids)
	slices.Sort(order)
	order = slices.Compact(order)
	var taken []string
	for _, id := range order {
		newly, err := s.claimOne(ctx, id, claim)
		if err != nil {
			s.unclaim(context.WithoutCancel(ctx), taken, claim)
			return err
		}
		if newly {
			taken = append(taken, id)
		}
	}
	return nil
}

// claimOne claims one upload. newly is false when it already carried claim.
func (s *Store) claimOne(ctx context.Context, id, claim string) (newly bool, err error) {
	cur := map[string]any{}
	applied, err := s.lwt(ctx, "UPDATE media_uploads SET claim = ? WHERE id = ? IF owner_id != null AND claim = null", claim, id).MapScanCAS(cur)
	if err != nil {
		// The outcome is unknown: a serial read tells what happened.
		var owner, got string
		rerr := s.query(ctx, "SELECT owner_id, claim FROM media_uploads WHERE id = ?", id).Consistency(s.serial).Scan(&owner, &got)
		switch {
		case rerr == nil && owner != "" && got == claim:
			return true, nil
		case rerr == nil && owner != "" && got != "":
			return false, media.ErrClaimed
		}
		return false, wrap(err, "claim upload %s", id)
	}
	if applied {
		return true, nil
	}
	owner, _ := cur["owner_id"].(string)
	got, _ := cur["claim"].(string)
	switch {
	case owner == "":
		return false, media.ErrNotFound
	case got == claim:
		return false, nil
	default:
		return false, media.ErrClaimed
	}
}

// unclaim releases uploads this call claimed, best effort: never one that
// was attached meanwhile.
func (s *Store) unclaim(ctx context.Context, ids []string, claim string) {
	for _, id := range ids {
		_, _ = s.lwt(ctx, "UPDATE media_uploads SET claim = null WHERE id = ? IF claim = ? AND message_id = null", id, claim).MapScanCAS(map[string]any{})
	}
}

// Attach implements media.Store.
func (s *Store) Attach(ctx context.Context, messageID string, ids []string) error {
	qs := []stmt{{"INSERT INTO media_message_attachments (message_id, upload_ids) VALUES (?, ?)", []any{messageID, ids}}}
	for _, id := range ids {
		qs = append(qs, stmt{"UPDATE media_uploads SET message_id = ? WHERE id = ?", []any{messageID, id}})
	}
	return wrap(s.exec(ctx, qs), "attach uploads to %s", messageID)
}

// Attachments implements media.Store: one point read per message, in
// parallel.
func (s *Store) Attachments(ctx context.Context, messageIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(messageIDs))
	var mu sync.Mutex
	err := cql.Parallel(ctx, len(messageIDs), func(ctx context.Context, i int) error {
		var ids []string
		err := s.query(ctx, "SELECT upload_ids FROM media_message_attachments WHERE message_id = ?", messageIDs[i]).Scan(&ids)
		if errors.Is(err, gocql.ErrNotFound) || (err == nil && len(ids) == 0) {
			return nil
		}
		if err != nil {
			return wrap(err, "read attachments of %s", messageIDs[i])
		}
		mu.Lock()
		out[messageIDs[i]] = ids
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StaleUploads implements media.Store. It walks the upload queue; entries
// of uploads that were claimed (or are gone) are dropped from the queue
// on the way, so the next sweep does not look at them again.
func (s *Store) StaleUploads(ctx context.Context, before time.Time, limit int) ([]media.Upload, error) {
	var out []media.Upload
	seen := map[string]bool{}
	for len(out) < limit {
		// Uploads already listed stay queued (the caller removes them), so
		// each pass sees them again first, then what lies past them.
		type entry struct {
			at time.Time
			id string
		}
		var es []entry
		var e entry
		err := s.due(ctx, &s.uploadQ, before, limit, "at, id",
			func() []any { return []any{&e.at, &e.id} }, func() { es = append(es, e) })
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, e := range es {
			if !seen[e.id] {
				ids = append(ids, e.id)
			}
		}
		us, err := s.Uploads(ctx, ids)
		if err != nil {
			return nil, err
		}
		var done []stmt
		for _, e := range es {
			if seen[e.id] {
				continue
			}
			seen[e.id] = true
			if u, ok := us[e.id]; ok && u.Claim == "" {
				if len(out) < limit {
					out = append(out, u)
				}
			} else {
				done = append(done, s.dequeue(&s.uploadQ, e.at, e.id))
			}
		}
		if err := s.exec(ctx, done); err != nil {
			return nil, wrap(err, "drop swept queue entries")
		}
		if len(done) == 0 || len(es) < limit {
			break // nothing was skipped, or nothing more is due
		}
	}
	return out, nil
}
