package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"messenger/blob"
	"messenger/blob/relay"
	"messenger/chat"
	"messenger/media"
	"messenger/observe"
	"messenger/server"
)

var _ media.URLSigner = (*relay.Relay)(nil)

// openUploads wires attachments and stories: blobs in S3 when
// MESSENGER_S3_ENDPOINT or MESSENGER_S3_BUCKET is set, else in
// <data>/blobs served by the API itself (with S3, documents are
// relayed by the API, see blob/relay); metadata in Cassandra when
// MESSENGER_CASSANDRA_HOSTS is set (see openMediaStore), else in
// <data>/media. URLs the API serves itself start with publicURL. The
// sweeper (unattached uploads, expired stories) runs until ctx ends, the
// thumbnail jobs until ctx ends or the close function is called. The
// returned close function releases the metadata store. obs times the blob
// store's calls. members is the chat store, read for stories' audiences.
func openUploads(ctx context.Context, cfg config, svc *chat.Service, members media.Members, signingKey []byte, obs *observe.Observer) (server.Uploads, func() error, error) {
	var up server.Uploads
	var blobs blob.Store
	var downloads media.URLSigner
	var parts blob.Multipart // the unwrapped store: large files in parts
	public, err := publicURL(cfg)
	if err != nil {
		return up, nil, err
	}
	if s3Configured(cfg) {
		s, err := openS3(ctx, cfg)
		if err != nil {
			return up, nil, err
		}
		blobs, parts = obs.Blobs(s), s
		// S3 cannot add nosniff: documents are relayed by the API.
		r, err := relay.New(relay.Config{Store: blobs, Secret: blobURLKey(signingKey), BaseURL: public})
		if err != nil {
			return up, nil, err
		}
		downloads, up.Blobs = r, r.Handler()
	} else {
		f, err := openFolder(cfg, signingKey)
		if err != nil {
			return up, nil, err
		}
		blobs, up.Blobs, parts = obs.Blobs(f), f.Handler(), f
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return up, nil, fmt.Errorf("media temp dir: %w", err)
	}
	store, err := openMediaStore(ctx, cfg)
	if err != nil {
		return up, nil, err
	}
	m, err := media.New(media.Config{Chat: svc, Store: store, Members: members, Blobs: blobs, Downloads: downloads, TempDir: tmp,
		MessageVideoBytes: cfg.MessageVideoBytes,
		Multipart:         media.MultipartConfig{Store: parts, MaxBytes: cfg.MaxLargeFile}})
	if err != nil {
		_ = store.Close()
		return up, nil, err
	}
	go m.Run(ctx)
	media.SetConcurrentDecodes(cfg.ImageDecodes)
	// Thumbnail jobs stop, and are waited for, before the store closes.
	thumbCtx, stopThumbs := context.WithCancel(ctx)
	thumbsDone := make(chan struct{})
	go func() { defer close(thumbsDone); m.RunThumbnails(thumbCtx) }()
	up.Media = m
	return up, func() error { stopThumbs(); <-thumbsDone; return store.Close() }, nil
}

// publicURL is MESSENGER_PUBLIC_URL without its trailing slash, checked:
// an absolute http(s) URL with a host and no query or fragment. Unset, it
// is http://localhost:<port of MESSENGER_HTTP_ADDR> (the host too when
// the address names one), good for development only: production refuses
// to start without it, since clients elsewhere could not use such URLs.
func publicURL(cfg config) (string, error) {
	if cfg.PublicURL == "" {
		if cfg.Env == "production" {
			return "", errors.New("MESSENGER_PUBLIC_URL is required in production: signed file URLs start with it")
		}
		host, port, err := net.SplitHostPort(cfg.HTTPAddr)
		if err != nil {
			return "", fmt.Errorf("MESSENGER_PUBLIC_URL: cannot derive it from MESSENGER_HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "localhost"
		}
		return "http://" + net.JoinHostPort(host, port), nil
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("MESSENGER_PUBLIC_URL: want an absolute http(s) URL such as https://api.example.com, got %q", cfg.PublicURL)
	}
	return strings.TrimRight(cfg.PublicURL, "/"), nil
}
