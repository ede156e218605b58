package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"messenger/blob"
	"messenger/fault"
	"messenger/storage"
)

// ExportStatus is where a data export is.
type ExportStatus string

// The statuses of an export.
const (
	ExportPending ExportStatus = "PENDING"
	ExportRunning ExportStatus = "RUNNING"
	ExportReady   ExportStatus = "READY"
	ExportFailed  ExportStatus = "FAILED"
	ExportExpired ExportStatus = "EXPIRED"
)

// Export is a user's data export as they see it.
type Export struct {
	ID          string
	Status      ExportStatus
	RequestedAt time.Time
	// FinishedAt is when it became ready or failed; ExpiresAt when a ready
	// archive is deleted.
	FinishedAt *time.Time
	ExpiresAt  *time.Time
	// URL downloads the archive until URLExpiresAt; set only when ready.
	URL          *string
	URLExpiresAt *time.Time
}

// RequestExport starts an export of me's data, or returns the one already
// running (at most one per user). A new one within ExportInterval of the
// last is RATE_LIMITED with retryAt. The previous archive is deleted.
func (s *Service) RequestExport(ctx context.Context, me string) (Export, error) {
	if s.cfg.Blobs == nil {
		return Export{}, &fault.Error{Code: fault.Unavailable, Message: "data exports are not configured on this server"}
	}
	last, err := s.store.LatestJob(ctx, me, storage.JobExport)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return Export{}, fmt.Errorf("lifecycle: latest export of %s: %w", me, err)
	case !last.State.Finished():
		return s.export(ctx, last)
	default:
		if next := last.CreatedAt.Add(s.cfg.ExportInterval); s.now().Before(next) {
			return Export{}, &fault.Error{Code: fault.RateLimited, Message: fmt.Sprintf("one data export per %s; retry at retryAt", s.cfg.ExportInterval),
				Extensions: map[string]any{"retryAt": next.UTC().Format(time.RFC3339Nano)}}
		}
	}
	j, created, err := s.store.CreateJob(ctx, s.newJob(me, storage.JobExport))
	if err != nil {
		return Export{}, fmt.Errorf("lifecycle: create export job: %w", err)
	}
	if created {
		if last.BlobKey != "" {
			_ = s.cfg.Blobs.Delete(ctx, last.BlobKey) // best effort: it expires anyway
		}
		s.jobs.Wake()
	}
	return s.export(ctx, j)
}

// LatestExport returns me's latest export, or nil when they never asked
// for one.
func (s *Service) LatestExport(ctx context.Context, me string) (*Export, error) {
	j, err := s.store.LatestJob(ctx, me, storage.JobExport)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lifecycle: latest export of %s: %w", me, err)
	}
	e, err := s.export(ctx, j)
	return &e, err
}

// export describes job j, with a fresh download URL when it is ready.
func (s *Service) export(ctx context.Context, j storage.Job) (Export, error) {
	e := Export{ID: j.ID, RequestedAt: j.CreatedAt}
	switch j.State {
	case storage.JobPending:
		e.Status = ExportPending
	case storage.JobRunning:
		e.Status = ExportRunning
	case storage.JobFailed:
		e.Status = ExportFailed
	case storage.JobDone:
		e.Status = ExportReady
	}
	if !j.State.Finished() {
		return e, nil
	}
	fin := j.FinishedAt
	e.FinishedAt = &fin
	if e.Status != ExportReady {
		return e, nil
	}
	exp := fin.Add(s.cfg.ExportTTL)
	e.ExpiresAt = &exp
	now := s.now()
	if !now.Before(exp) || s.cfg.Blobs == nil {
		e.Status = ExportExpired
		if s.cfg.Blobs != nil {
			_ = s.cfg.Blobs.Delete(ctx, j.BlobKey) // best effort; the next export deletes it too
		}
		return e, nil
	}
	ttl := min(s.cfg.ExportURLTTL, exp.Sub(now))
	url, err := s.cfg.Blobs.PresignGet(ctx, j.BlobKey, ttl, blob.GetOptions{
		ContentType:        "application/zip",
		ContentDisposition: blob.ContentDisposition("attachment", "messenger-export-"+j.CreatedAt.Format("2006-01-02")+".zip"),
	})
	if err != nil {
		return e, fmt.Errorf("lifecycle: sign the archive's URL: %w", err)
	}
	urlExp := now.Add(ttl)
	e.URL, e.URLExpiresAt = &url, &urlExp
	return e, nil
}

// ArchiveKey is where the archive of export job jobID of userID is stored.
func ArchiveKey(userID, jobID string) string { return "exports/" + userID + "/" + jobID + ".zip" }

// runExport is the export job's Handler: it builds the archive in a
// temporary file and stores it. A rerun after a crash builds it again;
// an archive stored by the crashed run is kept (write-once key).
func (s *Service) runExport(ctx context.Context, j *storage.Job, step func(string) error) error {
	if s.cfg.Blobs == nil {
		return errors.New("lifecycle: no blob store for archives")
	}
	if u, err := s.user(ctx, j.UserID); err != nil || !u.DeletedAt.IsZero() {
		return err // deleted meanwhile: no archive of a deleted account
	}
	f, err := os.CreateTemp(s.cfg.TempDir, "export-*.zip")
	if err != nil {
		return fmt.Errorf("lifecycle: archive file: %w", err)
	}
	defer func() { _ = f.Close(); _ = os.Remove(f.Name()) }()
	if err := s.WriteArchive(ctx, j.UserID, f); err != nil {
		return err
	}
	if err := step("written"); err != nil {
		return err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("lifecycle: archive file: %w", err)
	}
	key := ArchiveKey(j.UserID, j.ID)
	if _, err := s.cfg.Blobs.Put(ctx, key, f, s.cfg.MaxArchiveBytes, "application/zip"); err != nil && !errors.Is(err, blob.ErrExists) {
		return fmt.Errorf("lifecycle: store archive: %w", err)
	}
	j.BlobKey = key
	return nil
}
