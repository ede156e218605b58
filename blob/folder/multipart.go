package folder

import (
	"context"
	"crypto/hmac"
	"crypto/md5" // #nosec G501 -- an ETag like S3's, not a security check
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
)

var _ blob.Multipart = (*Store)(nil)

// A multipart upload is the folder multipart/<id>/ holding info.json (its
// key and content type) and one file per part that arrived, named
// p<number>-<md5 hex>: the name carries the part's ETag, so a part and its
// ETag are replaced together by one rename.

type mpInfo struct {
	Key         string `json:"key"`
	ContentType string `json:"contentType"`
}

func (s *Store) mpDir(uploadID string) (string, error) {
	if _, err := uuid.Parse(uploadID); err != nil {
		return "", blob.ErrNoUpload
	}
	return filepath.Join(s.cfg.Dir, "multipart", uploadID), nil
}

// mpOpen reads the upload's info and checks that it belongs to key.
func (s *Store) mpOpen(key, uploadID string) (string, mpInfo, error) {
	var info mpInfo
	dir, err := s.mpDir(uploadID)
	if err != nil {
		return "", info, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", info, blob.ErrNoUpload
	}
	if err != nil {
		return "", info, fmt.Errorf("folder: multipart %s: %w", uploadID, err)
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Key != key {
		return "", info, blob.ErrNoUpload
	}
	return dir, info, nil
}

// CreateMultipart makes the upload's folder.
func (s *Store) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id := uuid.NewString()
	dir, _ := s.mpDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("folder: create multipart %s: %w", key, err)
	}
	b, _ := json.Marshal(mpInfo{Key: key, ContentType: contentType})
	if err := os.WriteFile(filepath.Join(dir, "info.json"), b, 0o600); err != nil {
		return "", fmt.Errorf("folder: create multipart %s: %w", key, err)
	}
	return id, nil
}

// PresignPart returns a PUT URL the API serves itself (see Handler).
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int, size int64, ttl time.Duration) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", err
	}
	if number < 1 || number > blob.MaxParts || size <= 0 {
		return "", fmt.Errorf("folder: presign part %d of %d bytes: out of range", number, size)
	}
	exp := strconv.FormatInt(s.cfg.Now().Add(ttl).Unix(), 10)
	n, sz := strconv.Itoa(number), strconv.FormatInt(size, 10)
	q := url.Values{"key": {key}, "u": {uploadID}, "n": {n}, "size": {sz}, "exp": {exp}}
	q.Set("sig", s.sign("PUT", key, uploadID, n, sz, exp))
	return s.base() + "part?" + q.Encode(), nil
}

// servePart stores the body of a presigned part PUT. Like S3 it answers
// 403 for a bad or expired signature, 400 for a body whose length is not
// the signed one, 404 NoSuchUpload once the upload is finished, and 200
// with the part's ETag.
func (s *Store) servePart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	want := s.sign("PUT", q.Get("key"), q.Get("u"), q.Get("n"), q.Get("size"), q.Get("exp"))
	if err != nil || !hmac.Equal([]byte(want), []byte(q.Get("sig"))) || s.cfg.Now().Unix() > exp {
		http.Error(w, "AccessDenied: bad or expired signature", http.StatusForbidden)
		return
	}
	number, _ := strconv.Atoi(q.Get("n"))
	size, _ := strconv.ParseInt(q.Get("size"), 10, 64)
	if r.ContentLength != size {
		http.Error(w, "BadRequest: Content-Length must be the signed part size", http.StatusBadRequest)
		return
	}
	dir, _, err := s.mpOpen(q.Get("key"), q.Get("u"))
	if err != nil {
		http.Error(w, "NoSuchUpload", http.StatusNotFound)
		return
	}
	tmp, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "part-")
	if err != nil {
		http.Error(w, "InternalError", http.StatusInternalServerError)
		return
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	h := md5.New() // #nosec G401 -- S3's ETag algorithm
	n, err := io.Copy(io.MultiWriter(tmp, h), &blob.LimitedReader{R: r.Body, N: size})
	if err != nil || n != size {
		http.Error(w, "IncompleteBody: the body is not the signed part size", http.StatusBadRequest)
		return
	}
	if err := tmp.Sync(); err != nil {
		http.Error(w, "InternalError", http.StatusInternalServerError)
		return
	}
	etag := hex.EncodeToString(h.Sum(nil))
	s.mp.Lock()
	defer s.mp.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "info.json")); err != nil {
		http.Error(w, "NoSuchUpload", http.StatusNotFound)
		return
	}
	old, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("p%d-*", number)))
	name := filepath.Join(dir, fmt.Sprintf("p%d-%s", number, etag))
	if err := os.Rename(tmp.Name(), name); err != nil {
		http.Error(w, "InternalError", http.StatusInternalServerError)
		return
	}
	for _, o := range old {
		if o != name {
			_ = os.Remove(o)
		}
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	w.WriteHeader(http.StatusOK)
}

// parts lists the part files of an upload's folder, by number.
func parts(dir string) ([]blob.Part, map[int]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var out []blob.Part
	files := map[int]string{}
	for _, e := range ents {
		num, etag, ok := strings.Cut(strings.TrimPrefix(e.Name(), "p"), "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasPrefix(e.Name(), "p") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, blob.Part{Number: n, Size: fi.Size(), ETag: `"` + etag + `"`})
		files[n] = filepath.Join(dir, e.Name())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, files, nil
}

// ListParts reads the upload's folder.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mp.Lock()
	defer s.mp.Unlock()
	dir, _, err := s.mpOpen(key, uploadID)
	if err != nil {
		return nil, err
	}
	ps, _, err := parts(dir)
	if err != nil {
		return nil, fmt.Errorf("folder: list parts %s: %w", uploadID, err)
	}
	return ps, nil
}

// CompleteMultipart concatenates the parts into a temporary file and
// publishes it at key like Put, then removes the upload's folder.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, want []blob.Part) (blob.Info, error) {
	s.mp.Lock()
	defer s.mp.Unlock()
	dir, info, err := s.mpOpen(key, uploadID)
	if err != nil {
		return blob.Info{}, err
	}
	have, files, err := parts(dir)
	if err != nil {
		return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
	}
	byNum := map[int]blob.Part{}
	for _, p := range have {
		byNum[p.Number] = p
	}
	if len(want) == 0 {
		return blob.Info{}, blob.ErrBadParts
	}
	for i, p := range want {
		h, ok := byNum[p.Number]
		if !ok || strings.Trim(h.ETag, `"`) != strings.Trim(p.ETag, `"`) || (i > 0 && p.Number <= want[i-1].Number) ||
			(i < len(want)-1 && h.Size < blob.MinPartSize) {
			return blob.Info{}, blob.ErrBadParts
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "complete-")
	if err != nil {
		return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	for _, p := range want {
		if err := appendFile(ctx, tmp, files[p.Number]); err != nil {
			return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
	}
	if err := tmp.Close(); err != nil {
		return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
	}
	if err := s.publish(key, tmp.Name(), info.ContentType, false); err != nil {
		return blob.Info{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return blob.Info{}, fmt.Errorf("folder: complete %s: %w", uploadID, err)
	}
	return s.Stat(ctx, key)
}

func appendFile(ctx context.Context, dst io.Writer, name string) error {
	f, err := os.Open(name) // #nosec G304 -- a part file of this store
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	_, err = io.Copy(dst, readerCtx{ctx, f})
	return err
}

// AbortMultipart removes the upload's folder.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mp.Lock()
	defer s.mp.Unlock()
	dir, _, err := s.mpOpen(key, uploadID)
	if errors.Is(err, blob.ErrNoUpload) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("folder: abort %s: %w", uploadID, err)
	}
	return nil
}
