package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"messenger/storage"
	"messenger/storage/cassandra"
)

// startColdTier links a Cassandra store to the cold tier in S3 (every
// instance does, so any of them reads moved history) and, when
// MESSENGER_COLD_AFTER is set, runs the mover every cfg.ColdAfter/100
// (at most hourly) over all conversations: a bucket moves once its newest
// message is older than ColdAfter. Movers on several instances share the
// work through per-bucket leases. The embedded store keeps all history
// local. stop ends the mover and waits for it.
func startColdTier(ctx context.Context, cfg config, store storage.Store, logger *slog.Logger) (stop func(), err error) {
	cs, ok := store.(*cassandra.Store)
	if !ok || !s3Configured(cfg) {
		return func() {}, nil
	}
	blobs, err := openS3(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cold tier: %w", err)
	}
	cs.SetColdTier(blobs, "")
	if cfg.ColdAfter <= 0 {
		return func() {}, nil
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := min(max(cfg.ColdAfter/100, time.Minute), time.Hour)
		for {
			moveAll(runCtx, cs, time.Now().Add(-cfg.ColdAfter), logger)
			select {
			case <-runCtx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// moveAll runs one pass of the mover over every conversation.
func moveAll(ctx context.Context, s *cassandra.Store, cutoff time.Time, logger *slog.Logger) {
	after, moved, started := "", 0, time.Now()
	for ctx.Err() == nil {
		ids, err := s.ConversationIDs(ctx, after, 500)
		if err != nil {
			logger.Warn("cold tier: list conversations", "err", err)
			return
		}
		for _, id := range ids {
			n, err := s.MoveCold(ctx, id, cutoff)
			if err != nil {
				logger.Warn("cold tier: move", "conversation", id, "err", err)
			}
			moved += n
		}
		if len(ids) < 500 {
			break
		}
		after = ids[len(ids)-1]
	}
	if moved > 0 {
		logger.Info("cold tier: moved history", "messages", moved, "took", time.Since(started).String())
	}
}
