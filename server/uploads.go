package server

import (
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"messenger/media"
)

// Uploads configures attachments and stories. The zero value disables them
// (uploadFile and friends answer UNAVAILABLE; multipart requests are still
// checked for the preflight header).
type Uploads struct {
	// Media is the attachments and stories domain.
	Media *media.Service
	// Blobs serves signed URLs the API hands out under /blobs/: the
	// embedded blob store's, or with S3 the documents relayed by the API
	// (blob/relay) so they get nosniff.
	Blobs http.Handler
	// MaxRequestBytes caps a multipart request (default: the video limit
	// plus 1 MiB for the operation and the multipart framing).
	MaxRequestBytes int64
}

func (u Uploads) maxRequest() int64 {
	if u.MaxRequestBytes > 0 {
		return u.MaxRequestBytes
	}
	return media.MaxVideoBytes + 1<<20
}

// transport is the GraphQL multipart request spec transport. The request
// is cut off at maxRequest while it is read; files over 1 MiB are spooled
// to temporary files, not memory; each file's own limit (5 MiB, or the
// video limit) is enforced while it streams into the blob store.
func (u Uploads) transport() transport.MultipartForm {
	return transport.MultipartForm{MaxUploadSize: u.maxRequest(), MaxMemory: 1 << 20}
}

// mount adds the embedded blob store's endpoints.
func (u Uploads) mount(mux *http.ServeMux) {
	if u.Blobs != nil {
		mux.Handle("/blobs/", u.Blobs)
	}
}

// wrap guards /graphql: a multipart request must carry a header a
// cross-site form cannot set (GraphQL-Require-Preflight or
// Apollo-Require-Preflight: browsers preflight it, so CSRF cannot post
// files), and gets the upload body limit instead of the JSON one. Signed
// URLs never take their host from the request: the blob stores build them
// from the configured public URL (MESSENGER_PUBLIC_URL).
func (u Uploads) wrap(limited, unlimited http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method != http.MethodPost || ct != "multipart/form-data" {
			limited.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("GraphQL-Require-Preflight") == "" && r.Header.Get("Apollo-Require-Preflight") == "" {
			writeRefusal(w, mediaJSON, http.StatusBadRequest, codeBadRequest,
				"multipart requests must carry a GraphQL-Require-Preflight or Apollo-Require-Preflight header (CSRF protection)")
			return
		}
		if r.ContentLength > u.maxRequest() {
			writeRefusal(w, mediaJSON, http.StatusRequestEntityTooLarge, codeBadRequest, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, u.maxRequest())
		unlimited.ServeHTTP(w, r)
	})
}
