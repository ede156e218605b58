// Package linkpreview makes the preview of the first link of a message
// (title, description, site name, image) in the background after the
// send, safely: see Fetcher for what a fetch may reach. Results are cached
// per URL in the store; images are re-encoded and kept in the blob store,
// never hot-linked. See docs/linkpreview.md.
package linkpreview

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"messenger/blob"
	"messenger/chat"
	"messenger/storage"
	"messenger/textrules"
)

// Announcer tells members a preview was attached (chat.Service).
type Announcer interface {
	LinkPreviewAttached(ctx context.Context, conversationID string, seq int64) error
}

// Config configures a Service. Zero values are the documented defaults.
type Config struct {
	// Store keeps the cache and the previews of messages. Required.
	Store storage.LinkPreviews
	// Blobs keeps the preview images. Required.
	Blobs blob.Store
	// Announcer is told of every preview attached. Required.
	Announcer Announcer
	// Fetch bounds every fetch.
	Fetch FetchConfig
	// CacheTTL is how long a preview is reused for its URL (default 24 h).
	CacheTTL time.Duration
	// FailureTTL is how long a URL that gave no preview is not fetched
	// again (default 10 minutes).
	FailureTTL time.Duration
	// URLTTL is how long an image's signed URL works (default 1 h).
	URLTTL time.Duration
	// Workers is how many fetches run at once (default 4).
	Workers int
	// Queue is how many messages may wait for a worker (default 1024);
	// beyond it, messages get no preview.
	Queue int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
}

// Service fetches previews in the background and attaches them.
type Service struct {
	cfg      Config
	fetcher  *Fetcher
	jobs     chan storage.Message
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	mu       sync.Mutex
	inflight map[string]*fetchCall // by link
}

var _ chat.LinkPreviewer = (*Service)(nil)

// New starts a Service's workers; Close stops them.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Blobs == nil || cfg.Announcer == nil {
		return nil, errors.New("linkpreview: Store, Blobs and Announcer are required")
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 24 * time.Hour
	}
	if cfg.FailureTTL <= 0 {
		cfg.FailureTTL = 10 * time.Minute
	}
	if cfg.URLTTL <= 0 {
		cfg.URLTTL = time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, fetcher: NewFetcher(cfg.Fetch), jobs: make(chan storage.Message, cfg.Queue), stop: make(chan struct{}),
		inflight: map[string]*fetchCall{}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.stop; cancel() }()
	for range cfg.Workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.stop:
					return
				case m := <-s.jobs:
					if err := s.attach(ctx, m); err != nil {
						s.cfg.Logger.Warn("link preview failed", "message", m.ID, "err", err)
					}
				}
			}
		}()
	}
	return s, nil
}

// Close stops the workers, abandoning queued messages, and waits for the
// fetches running to end (each is bounded by FetchConfig.Timeout).
func (s *Service) Close() {
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// MessageWritten implements chat.LinkPreviewer: it queues m, or drops it
// when the queue is full.
func (s *Service) MessageWritten(m storage.Message) {
	select {
	case s.jobs <- m:
	default:
		s.cfg.Logger.Warn("link preview queue full: message gets no preview", "message", m.ID)
	}
}

// ImageURL implements chat.LinkPreviewer.
func (s *Service) ImageURL(ctx context.Context, key string) (string, error) {
	u, err := s.cfg.Blobs.PresignGet(ctx, key, s.cfg.URLTTL, blob.GetOptions{
		ContentType: "image/jpeg", ContentDisposition: blob.ContentDisposition("inline", "preview.jpg"),
	})
	if err != nil {
		return "", fmt.Errorf("linkpreview: sign image url: %w", err)
	}
	return u, nil
}

// attach makes (or finds in the cache) the preview of m's first link and
// attaches it.
func (s *Service) attach(ctx context.Context, m storage.Message) error {
	link := textrules.FirstURL(m.Body)
	if link == "" {
		return nil
	}
	p, err := s.Preview(ctx, link)
	if err != nil || p == nil {
		return err
	}
	if err := s.cfg.Store.SetMessageLinkPreview(ctx, m.ConversationID, m.Seq, *p); err != nil {
		return fmt.Errorf("linkpreview: attach to %s: %w", m.ID, err)
	}
	return s.cfg.Announcer.LinkPreviewAttached(ctx, m.ConversationID, m.Seq)
}

// Preview returns the preview of link from the cache, or fetches it (and
// caches the outcome). Nil, without error, when the page gives none (a
// refused address, not HTML, nothing in its head): that is remembered for
// FailureTTL. Concurrent calls for one link in this process share one
// fetch.
func (s *Service) Preview(ctx context.Context, link string) (*storage.LinkPreview, error) {
	f, err := s.cfg.Store.CachedLinkPreview(ctx, link, s.cfg.Now())
	if err == nil {
		return f.Preview, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("linkpreview: cache: %w", err)
	}
	s.mu.Lock()
	c, running := s.inflight[link]
	if !running {
		c = &fetchCall{done: make(chan struct{})}
		s.inflight[link] = c
	}
	s.mu.Unlock()
	if running {
		select {
		case <-c.done:
			return c.p, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.p, c.err = s.fetchAndCache(ctx, link)
	s.mu.Lock()
	delete(s.inflight, link)
	s.mu.Unlock()
	close(c.done)
	return c.p, c.err
}

// fetchCall is one fetch that concurrent Preview calls for its link share.
type fetchCall struct {
	done chan struct{}
	p    *storage.LinkPreview
	err  error
}

// fetchAndCache fetches link and caches the outcome.
func (s *Service) fetchAndCache(ctx context.Context, link string) (*storage.LinkPreview, error) {
	now := s.cfg.Now()
	p, ferr := s.fetch(ctx, link)
	f := storage.LinkPreviewFetch{URL: link, Preview: p, ExpiresAt: now.Add(s.cfg.CacheTTL)}
	if p == nil {
		f.ExpiresAt = now.Add(s.cfg.FailureTTL)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // shutting down: remember nothing
	}
	if err := s.cfg.Store.CacheLinkPreview(ctx, f); err != nil {
		return nil, fmt.Errorf("linkpreview: cache: %w", err)
	}
	if ferr != nil {
		s.cfg.Logger.Info("no link preview", "url", link, "err", ferr)
	}
	return p, nil
}

// fetch reads the page's head and stores its image. An image that cannot
// be used leaves the preview without one.
func (s *Service) fetch(ctx context.Context, link string) (*storage.LinkPreview, error) {
	h, final, err := s.fetcher.Page(ctx, link)
	if err != nil {
		return nil, err
	}
	if h.Title == "" && h.Description == "" {
		return nil, fmt.Errorf("linkpreview: %s says nothing about itself", link)
	}
	p := &storage.LinkPreview{URL: link, Title: h.Title, Description: h.Description, SiteName: h.SiteName}
	if h.Image != "" {
		img, err := s.storeImage(ctx, final, h.Image)
		if err != nil {
			s.cfg.Logger.Info("link preview without its image", "url", link, "err", err)
		}
		p.Image = img
	}
	return p, nil
}

// storeImage fetches the image (relative to the page), re-encodes it and
// stores it under a key derived from its address.
func (s *Service) storeImage(ctx context.Context, page *url.URL, ref string) (*storage.LinkPreviewImage, error) {
	u, err := page.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	raw, err := s.fetcher.imageBytes(ctx, u.String())
	if err != nil {
		return nil, err
	}
	jpg, w, h, err := reencode(ctx, raw)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(jpg)
	key := "linkpreviews/" + hex.EncodeToString(sum[:]) + ".jpg"
	if _, err := s.cfg.Blobs.Put(ctx, key, bytes.NewReader(jpg), int64(len(jpg)), "image/jpeg"); err != nil && !errors.Is(err, blob.ErrExists) {
		return nil, fmt.Errorf("linkpreview: store image: %w", err)
	}
	return &storage.LinkPreviewImage{Key: key, Width: w, Height: h}, nil
}
