// Package folder is the embedded blob store: objects are files in a folder
// of the data directory, and presigned URLs point at the API itself, which
// serves them with Handler (GET downloads and POST form uploads), checking
// an HMAC signature and an expiry like S3 does.
package folder

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"messenger/blob"
	"messenger/blob/relay"
)

var _ blob.Store = (*Store)(nil)

// Config configures the folder store. Zero values are documented defaults.
type Config struct {
	// Dir holds the objects; it is created if missing. Required.
	Dir string
	// Secret signs presigned URLs and forms (32+ bytes). Required.
	Secret []byte
	// BaseURL is the API's public URL (scheme://host[:port][/path], no
	// trailing slash) that every presigned URL starts with; never taken
	// from a request. Default "" gives host-relative URLs.
	BaseURL string
	// Prefix is the path Handler is mounted under (default "/blobs/").
	Prefix string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store keeps objects as files: data/<key> with its metadata in meta/<key>.
type Store struct {
	cfg Config
	// mu makes checking that a key is free and publishing it one step.
	mu sync.Mutex
	// mp serialises the parts and completion of multipart uploads.
	mp sync.Mutex
	// dl signs and serves downloads, the same code that relays S3's.
	dl *relay.Relay
}

type meta struct {
	ContentType string `json:"contentType"`
}

// Open creates the folder layout and returns the store.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" || len(cfg.Secret) < 32 {
		return nil, errors.New("folder: Config.Dir and a 32-byte Config.Secret are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/blobs/"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []string{"data", "meta", "tmp"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
	}
	s := &Store{cfg: cfg}
	dl, err := relay.New(relay.Config{Store: s, Secret: cfg.Secret, BaseURL: cfg.BaseURL, Prefix: cfg.Prefix, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	s.dl = dl
	return s, nil
}

func (s *Store) path(kind, key string) string {
	return filepath.Join(s.cfg.Dir, kind, filepath.FromSlash(key))
}

// Put writes to a temporary file and moves it into place only when no
// object is at key (see publish), so readers never see a partial object and
// a refused stream leaves nothing.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error) {
	return s.write(ctx, key, r, max, contentType, false)
}

// write spools r through the limit into a temporary file, then publishes
// it at key: only when key is free, or replacing what is there (the
// presigned POST, which S3 lets overwrite too).
func (s *Store) write(ctx context.Context, key string, r io.Reader, max int64, contentType string, replace bool) (int64, error) {
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	if !replace {
		if _, err := os.Stat(s.path("data", key)); err == nil {
			return 0, blob.ErrExists // early: no need to read the stream
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "put-")
	if err != nil {
		return 0, fmt.Errorf("folder: put %s: %w", key, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	src := r
	if max > 0 {
		src = &blob.LimitedReader{R: r, N: max}
	}
	n, err := io.Copy(tmp, readerCtx{ctx, src})
	if errors.Is(err, blob.ErrTooLarge) {
		return 0, blob.ErrTooLarge
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err != nil {
		return 0, fmt.Errorf("folder: put %s: %w", key, err)
	}
	if err := s.publish(key, tmp.Name(), contentType, replace); err != nil {
		return 0, err
	}
	return n, nil
}

// publish moves the spooled file to key with its metadata. The check that
// key is free and the moves happen under one lock, so of concurrent Puts
// exactly one wins; a folder is used by one process (the data directory's).
func (s *Store) publish(key, spooled, contentType string, replace bool) error {
	m, _ := json.Marshal(meta{ContentType: contentType})
	metaTmp, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "meta-")
	if err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	defer func() { _ = os.Remove(metaTmp.Name()) }()
	_, err = metaTmp.Write(m)
	if cerr := metaTmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	for _, kind := range []string{"data", "meta"} {
		if err := os.MkdirAll(filepath.Dir(s.path(kind, key)), 0o750); err != nil {
			return fmt.Errorf("folder: put %s: %w", key, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.path("data", key)); err == nil && !replace {
		return blob.ErrExists
	}
	if err := os.Rename(metaTmp.Name(), s.path("meta", key)); err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	if err := os.Rename(spooled, s.path("data", key)); err != nil {
		return fmt.Errorf("folder: put %s: %w", key, err)
	}
	return nil
}

// readerCtx stops a copy when ctx ends.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Get opens the object's file.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, info, err
	}
	f, err := os.Open(s.path("data", key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, info, blob.ErrNotFound
	}
	if err != nil {
		return nil, info, fmt.Errorf("folder: get %s: %w", key, err)
	}
	return f, info, nil
}

// Stat reads the object's size and metadata.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(s.path("data", key))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.IsDir()) {
		return blob.Info{}, blob.ErrNotFound
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("folder: stat %s: %w", key, err)
	}
	var m meta
	if b, err := os.ReadFile(s.path("meta", key)); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return blob.Info{Key: key, Size: fi.Size(), ContentType: m.ContentType, ModTime: fi.ModTime()}, nil
}

// Delete removes the object's file and metadata.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kind := range []string{"data", "meta"} {
		if err := os.Remove(s.path(kind, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("folder: delete %s: %w", key, err)
		}
	}
	return nil
}

func (s *Store) sign(parts ...string) string { return relay.Sign(s.cfg.Secret, parts...) }

func (s *Store) base() string {
	return s.cfg.BaseURL + s.cfg.Prefix
}

// PresignGet returns a URL the API serves itself (see Handler).
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	return s.dl.PresignGet(ctx, key, ttl, opts)
}

// policy is what a presigned form allows; signed as its base64 text.
type policy struct {
	Key     string `json:"key"`
	Max     int64  `json:"max"`
	Expires int64  `json:"exp"`
}

// PresignPost returns a form posting to the API's upload endpoint.
func (s *Store) PresignPost(ctx context.Context, key string, max int64, ttl time.Duration) (blob.PostForm, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.PostForm{}, err
	}
	exp := s.cfg.Now().Add(ttl)
	p, _ := json.Marshal(policy{Key: key, Max: max, Expires: exp.Unix()})
	enc := base64.StdEncoding.EncodeToString(p)
	return blob.PostForm{
		URL:     s.base() + "upload",
		Fields:  map[string]string{"key": key, "policy": enc, "x-signature": s.sign("POST", enc)},
		Expires: exp,
	}, nil
}

// List walks the folder of prefix's directory part and returns the
// matching keys, sorted.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	if err := blob.ValidPrefix(prefix); err != nil {
		return nil, err
	}
	root := filepath.Join(s.cfg.Dir, "data")
	dir := filepath.Join(root, filepath.FromSlash(prefix[:strings.LastIndex(prefix, "/")+1]))
	var keys []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("folder: list %s: %w", prefix, err)
	}
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}
