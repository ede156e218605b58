package media

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Sweep removes what has outlived its time: uploads never attached after
// UploadTTL, and stories after StoryTTL (with their videos, views,
// reactions and posting-log entries), presigned slots no upload can
// use any more (see sweepSlots), and multipart uploads never completed. It works in bounded batches and is safe to
// run concurrently with requests; Run calls it periodically.
func (s *Service) Sweep(ctx context.Context) (uploads, stories int, err error) {
	now := s.now()
	if err := s.sweepSlots(ctx, now); err != nil {
		return 0, 0, err
	}
	if _, err := s.sweepMultiparts(ctx, now); err != nil { // multipart.go
		return 0, 0, err
	}
	for {
		us, err := s.uploads.StaleUploads(ctx, now.Add(-s.cfg.UploadTTL), 500)
		if err != nil {
			return uploads, stories, err
		}
		for _, u := range us {
			if err := s.dropUpload(ctx, u.ID); err != nil {
				return uploads, stories, err
			}
			uploads++
		}
		if len(us) < 500 {
			break
		}
	}
	for {
		sts, err := s.stories.ExpiredStories(ctx, now, 500)
		if err != nil {
			return uploads, stories, err
		}
		for _, st := range sts {
			if err := s.dropUpload(ctx, st.UploadID); err != nil {
				return uploads, stories, err
			}
			if err := s.stories.SweepStory(ctx, st); err != nil {
				return uploads, stories, err
			}
			stories++
		}
		if len(sts) < 500 {
			return uploads, stories, nil
		}
	}
}

// sweepSlots deletes the objects of presigned slots (see SlotKey) created
// in an hour that ended more than UploadTTL ago (and more than URLTTL, so
// no form can post there again): by then each slot's upload was either
// confirmed, its bytes moved away, or removed as stale. What is left is a
// refused or abandoned post, or one made after confirmation. Slot keys
// start with their hour, so the listing meets the oldest first and stops
// at the first hour still in use.
func (s *Service) sweepSlots(ctx context.Context, now time.Time) error {
	keep := max(s.cfg.UploadTTL, s.cfg.URLTTL) + time.Hour
	after := ""
	for {
		keys, err := s.blobs.List(ctx, slotPrefix, after, 500)
		if err != nil {
			return fmt.Errorf("media: list upload slots: %w", err)
		}
		for _, k := range keys {
			after = k
			hour, _, _ := strings.Cut(strings.TrimPrefix(k, slotPrefix), "/")
			t, err := time.Parse(slotHour, hour)
			if err != nil {
				continue // not a slot: leave it
			}
			if t.Add(keep).After(now) {
				return nil
			}
			if err := s.blobs.Delete(ctx, k); err != nil {
				return fmt.Errorf("media: delete upload slot: %w", err)
			}
		}
		if len(keys) < 500 {
			return nil
		}
	}
}

// Run sweeps every SweepEvery until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if u, st, err := s.Sweep(ctx); err != nil {
				s.cfg.Logger.Error("media sweep failed", "err", err)
			} else if u+st > 0 {
				s.cfg.Logger.Info("media swept", "uploads", u, "stories", st)
			}
		}
	}
}
