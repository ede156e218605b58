package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"messenger/chat"
	"messenger/linkpreview"
	"messenger/storage"
)

// loadLinkPreviewConfig reads MESSENGER_LINK_PREVIEWS (unset: on in fleet
// mode, when Cassandra holds the data; off in embedded mode, which runs on
// a laptop or a single box where outbound fetches of whatever users post
// should be a choice) and MESSENGER_LINK_PREVIEW_PORTS.
func loadLinkPreviewConfig(c *config, get func(string) string) error {
	c.LinkPreviews = len(c.CassandraHosts) > 0
	if v := get("MESSENGER_LINK_PREVIEWS"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("MESSENGER_LINK_PREVIEWS: %w", err)
		}
		c.LinkPreviews = on
	}
	c.LinkPreviewPorts = nil
	for _, p := range list(get("MESSENGER_LINK_PREVIEW_PORTS")) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("MESSENGER_LINK_PREVIEW_PORTS: %q is not a TCP port", p)
		}
		c.LinkPreviewPorts = append(c.LinkPreviewPorts, n)
	}
	if len(c.LinkPreviewPorts) == 0 {
		return fmt.Errorf("MESSENGER_LINK_PREVIEW_PORTS: name at least one port")
	}
	return nil
}

// openLinkPreviews plugs the link previewer into svc when cfg allows:
// images go to the uploads' blob store (S3 when configured, else
// <data>/blobs with the key openUploads derives, so the API's /blobs/
// handler serves them). The returned function stops its workers.
func openLinkPreviews(ctx context.Context, cfg config, svc *chat.Service, store storage.Store, signingKey []byte, logger *slog.Logger) (func(), error) {
	if !cfg.LinkPreviews {
		return func() {}, nil
	}
	blobs, err := openBlobs(ctx, cfg, signingKey)
	if err != nil {
		return nil, err
	}
	lp, err := linkpreview.New(linkpreview.Config{Store: store, Blobs: blobs, Announcer: svc, Logger: logger,
		Fetch: linkpreview.FetchConfig{Ports: cfg.LinkPreviewPorts}})
	if err != nil {
		return nil, err
	}
	svc.UseLinkPreviews(lp)
	return lp.Close, nil
}
