// Package blob stores opaque byte objects (attachments, story videos) by
// key. The Store interface has an embedded implementation (blob/folder: a
// folder in the data directory, with signed URLs served by the API itself)
// and a distributed one (blob/s3blob: S3 or MinIO); both pass the same
// contract suite (blob/blobtest).
//
// A Store knows nothing of users or of what the bytes are: deciding who may
// read an object, and checking its content, is the caller's job.
package blob

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"
)

// Errors returned by every Store. Callers test them with errors.Is.
var (
	// ErrNotFound: no object has this key.
	ErrNotFound = errors.New("blob: not found")
	// ErrTooLarge: the stream was longer than the limit; nothing was stored.
	ErrTooLarge = errors.New("blob: object too large")
	// ErrBadKey: the key is empty, too long, or has characters outside
	// [A-Za-z0-9._/-], "..", or a leading or trailing slash.
	ErrBadKey = errors.New("blob: malformed key")
	// ErrExists: Put found an object at the key already; nothing changed.
	ErrExists = errors.New("blob: object exists")
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// GetOptions are the response headers a presigned GET URL makes the server
// send. Empty fields leave the stored value (or the server's default).
type GetOptions struct {
	// ContentType overrides the object's content type.
	ContentType string
	// ContentDisposition, e.g. `attachment; filename="a.pdf"`.
	ContentDisposition string
}

// PostForm is a presigned browser upload: POST a multipart/form-data body to
// URL with every field of Fields (in any order) followed by the file in a
// part named "file" (it must be the last part).
type PostForm struct {
	URL    string
	Fields map[string]string
	// Expires is when the form stops being accepted.
	Expires time.Time
}

// Store is a flat key space of objects that Put writes once. Every method
// may block on I/O and honours ctx. All methods are safe for concurrent use,
// also from several processes sharing one distributed backend.
//
// A presigned POST form (PresignPost) is the exception to write-once: until
// it expires, whoever holds it may post to its key again, replacing what
// is there (S3 offers no single-use form). A caller that must know the
// bytes it checked are the bytes it serves copies them with Put to a key
// no form covers, and reads them from there.
type Store interface {
	// Put streams r into a new object at key. When an object is there
	// already it fails with ErrExists and changes nothing: of concurrent
	// Puts to one key, from any number of processes, exactly one wins. It
	// reads at most max+1 bytes: a longer stream fails with ErrTooLarge and
	// stores nothing. max <= 0 means no limit. It returns the stored size.
	// The object is visible to Get only once Put has returned nil.
	Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error)
	// Get opens the object for reading; the caller closes it. ErrNotFound
	// when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object. Deleting a missing object is not an error.
	// A presigned GET URL of a deleted object stops working at once.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a URL that serves the object to anyone holding it,
	// until ttl has passed, with the headers of opts. The object need not
	// exist yet; fetching a missing one answers 404.
	PresignGet(ctx context.Context, key string, ttl time.Duration, opts GetOptions) (string, error)
	// PresignPost returns a form for a browser (or any HTTP client) to
	// upload the object at key directly, until ttl has passed. The server
	// refuses a body of more than max bytes or of zero bytes (the policy's
	// content-length-range), and stores nothing then. Each accepted POST
	// replaces the object at key (see Store).
	PresignPost(ctx context.Context, key string, max int64, ttl time.Duration) (PostForm, error)
	// List returns up to limit keys that start with prefix and sort after
	// after ("" = from the start), in byte order. A prefix need not end at
	// a "/". Objects written or deleted while it runs may or may not be
	// among them.
	List(ctx context.Context, prefix, after string, limit int) ([]string, error)
}

// ValidKey reports whether key may be used by every Store: 1-512 bytes of
// [A-Za-z0-9._/-], no "..", no leading or trailing slash, no empty segment.
func ValidKey(key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return ErrBadKey
	}
	return ValidPrefix(key)
}

// ValidPrefix reports whether prefix may start keys (List): like a key,
// but it may be empty or end with a slash.
func ValidPrefix(prefix string) error {
	if len(prefix) > 512 || strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "..") || strings.Contains(prefix, "//") {
		return ErrBadKey
	}
	for _, c := range prefix {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-'
		if !ok {
			return ErrBadKey
		}
	}
	return nil
}

// ContentDisposition builds a Content-Disposition value with a filename
// that survives any header: an ASCII fallback plus the RFC 5987 UTF-8 form.
func ContentDisposition(disposition, filename string) string {
	if filename == "" {
		return disposition
	}
	ascii := make([]rune, 0, len(filename))
	for _, r := range filename {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '_'
		}
		ascii = append(ascii, r)
	}
	return disposition + `; filename="` + string(ascii) + `"; filename*=UTF-8''` + url.PathEscape(filename)
}

// LimitedReader reads at most N+1 bytes from R and fails with ErrTooLarge
// when the (N+1)th arrives, so a stream over the limit is refused while it
// is read, never after it was buffered.
type LimitedReader struct {
	R io.Reader
	N int64 // bytes still allowed
	// Count is the number of bytes delivered.
	Count int64
}

func (l *LimitedReader) Read(p []byte) (int, error) {
	if l.N < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.N+1 {
		p = p[:l.N+1]
	}
	n, err := l.R.Read(p)
	l.N -= int64(n)
	l.Count += int64(n)
	if l.N < 0 {
		return n - 1, ErrTooLarge
	}
	return n, err
}
