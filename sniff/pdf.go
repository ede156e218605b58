package sniff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// inspectPDF wants the header and an end-of-file marker near the end (a
// truncated PDF has none).
func inspectPDF(r io.ReaderAt, size int64) (Content, error) {
	n := min(size, 2048)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return Content{}, fmt.Errorf("sniff: read: %w", err)
	}
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return Content{}, refused("the PDF is truncated (no %%%%EOF marker)")
	}
	return Content{Kind: Document, ContentType: "application/pdf", Ext: "pdf"}, nil
}
