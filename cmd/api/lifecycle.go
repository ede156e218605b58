package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"messenger/chat"
	"messenger/lifecycle"
	"messenger/media"
	"messenger/storage"
)

// openLifecycle wires account deletion, data export and bans: archives go
// to the same blob store as uploads (S3 when configured, else
// <data>/blobs, whose signed URLs the API serves under /blobs/ with the
// same key), jobs are in the chat store; files (nil: none) puts the
// messages' attachments in archives. Start its runner with Run.
func openLifecycle(ctx context.Context, cfg config, svc *chat.Service, store storage.Store, files *media.Service, devices userForgetter, signingKey []byte, logger *slog.Logger) (*lifecycle.Service, error) {
	lc := lifecycle.Config{Store: store, Domain: svc, Logger: logger, TempDir: filepath.Join(cfg.DataDir, "tmp")}
	if files != nil {
		lc.Files = files // the archive's attachments
		lc.Media = files // deletion takes the user's stories down
	}
	blobs, err := openBlobs(ctx, cfg, signingKey)
	if err != nil {
		return nil, err
	}
	lc.Blobs = blobs
	lc.Sessions = svc    // deletion and bans end every session (chat/sessions.go)
	lc.SessionList = svc // the archive's sessions.json
	// Blocks and privacy settings (chat/privacy.go), then push devices and
	// notification settings (push/devices.go).
	lc.Privacy = forgetBoth{svc, devices}
	return lifecycle.New(lc)
}

// userForgetter drops what one layer keeps about a user (push devices).
type userForgetter interface {
	ForgetUser(ctx context.Context, userID string) error
}

// forgetBoth is the deletion's "forget" step: the privacy layer's blocks
// and settings, then the devices (nil: none); both are idempotent, so a
// resumed job may run them again.
type forgetBoth struct {
	privacy lifecycle.PrivacyForgetter
	devices userForgetter
}

func (f forgetBoth) ForgetPrivacy(ctx context.Context, userID string) error {
	if err := f.privacy.ForgetPrivacy(ctx, userID); err != nil {
		return err
	}
	if f.devices == nil {
		return nil
	}
	return f.devices.ForgetUser(ctx, userID)
}
