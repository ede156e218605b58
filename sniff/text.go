package sniff

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"unicode/utf8"
)

// inspectText accepts UTF-8 text without NULs as SVG (when it is markup
// whose root is <svg>) or CSV; any other markup (HTML, XML) is refused, so
// HTML cannot be smuggled in under a harmless name or type.
func inspectText(r io.ReaderAt, size int64, head []byte) (Content, error) {
	br := bufio.NewReader(io.NewSectionReader(r, 0, size))
	for {
		c, n, err := br.ReadRune()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Content{}, err
		}
		if c == utf8.RuneError && n == 1 {
			return Content{}, refused("the file type is not accepted (binary or not UTF-8)")
		}
		if c == 0 {
			return Content{}, refused("the file type is not accepted (binary: it contains NUL bytes)")
		}
	}
	body := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if bytes.HasPrefix(body, []byte("<")) {
		if !looksLikeSVG(head) {
			return Content{}, refused("HTML and XML files are not accepted")
		}
		if err := checkSVG(io.NewSectionReader(r, 0, size)); err != nil {
			return Content{}, err
		}
		return Content{Kind: Image, ContentType: "image/svg+xml", Ext: "svg"}, nil
	}
	cr := csv.NewReader(io.NewSectionReader(r, 0, size))
	cr.ReuseRecord = true
	rows := 0
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Content{}, refused("the text is not valid CSV: %v", err)
		}
		rows++
	}
	if rows == 0 {
		return Content{}, refused("the CSV file has no rows")
	}
	return Content{Kind: Document, ContentType: "text/csv", Ext: "csv"}, nil
}
