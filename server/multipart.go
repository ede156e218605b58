package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// boundMultipartJSON holds a multipart request's operations and map fields
// (the first two parts, by the GraphQL multipart request spec) to the JSON
// body limit, max bytes each, before gqlgen's transport decodes them: a
// multipart request may be 33 MiB for its files, not for its JSON. It reads
// those parts and gives back the request with a body that replays what it
// read, or refuses the request (413) and returns false. Malformed framing
// is left for the transport to report.
func boundMultipartJSON(w http.ResponseWriter, r *http.Request, media string, max int64) (*http.Request, bool) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return r, true
	}
	var seen bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(r.Body, &seen), params["boundary"])
	for _, name := range []string{"operations", "map"} {
		part, err := mr.NextPart()
		if err != nil || part.FormName() != name {
			break
		}
		n, err := io.Copy(io.Discard, io.LimitReader(part, max+1))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeRefusal(w, media, http.StatusRequestEntityTooLarge, codeBadRequest, "request body too large")
			return r, false
		case n > max:
			writeRefusal(w, media, http.StatusRequestEntityTooLarge, codeBadRequest,
				fmt.Sprintf("the %s field is larger than %d bytes", name, max))
			return r, false
		}
		if err != nil {
			break
		}
	}
	r.Body = replayBody{Reader: io.MultiReader(&seen, r.Body), Closer: r.Body}
	return r, true
}

// replayBody is a request body whose first bytes were read already and are
// read again.
type replayBody struct {
	io.Reader
	io.Closer
}
