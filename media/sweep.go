package media

import (
	"context"
	"time"
)

// Sweep removes what has outlived its time: uploads never attached after
// UploadTTL, and stories after StoryTTL (with their videos, views,
// reactions and posting-log entries). It works in bounded batches and is
// safe to run concurrently with requests; Run calls it periodically.
func (s *Service) Sweep(ctx context.Context) (uploads, stories int, err error) {
	now := s.now()
	for {
		us, err := s.store.StaleUploads(ctx, now.Add(-s.cfg.UploadTTL), 500)
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
		sts, err := s.store.ExpiredStories(ctx, now, 500)
		if err != nil {
			return uploads, stories, err
		}
		for _, st := range sts {
			if err := s.dropUpload(ctx, st.UploadID); err != nil {
				return uploads, stories, err
			}
			if err := s.store.SweepStory(ctx, st); err != nil {
				return uploads, stories, err
			}
			stories++
		}
		if len(sts) < 500 {
			return uploads, stories, nil
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
