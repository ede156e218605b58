package gqlws

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// permessage-deflate (RFC 7692), always without context takeover in either
// direction: every message is compressed and inflated on its own, so a
// socket keeps no compressor, decompressor or window between messages.
// Both come from process-wide pools and are held only while one message is
// compressed or inflated: an idle socket costs nothing more with
// compression than without.

// deflateParams is what was agreed for one socket.
type deflateParams struct {
	// maxWindow caps the messages the server compresses: the client asked
	// for an LZ77 window of at most this many bytes (server_max_window_bits)
	// and compress/flate always uses 32 KiB. A message no longer than the
	// window cannot refer further back than the window, so shorter ones are
	// compressed and longer ones are sent as they are.
	maxWindow int
}

// negotiateDeflate picks the first permessage-deflate offer in the
// request's Sec-WebSocket-Extensions that the server can honour, and
// returns the response's extension header ("" and ok false: none).
//
// An offer is declined (RFC 7692 section 5) when it has an unknown or
// repeated parameter or a parameter with an invalid value. The server
// always answers with server_no_context_takeover and
// client_no_context_takeover (which a server may send unasked), never with
// client_max_window_bits (so the client keeps the default window, which
// compress/flate can always inflate), and echoes server_max_window_bits
// when the client set it (the server keeps to it, see deflateParams).
func negotiateDeflate(h http.Header) (p deflateParams, response string, ok bool) {
	for _, offer := range extensionOffers(h) {
		if offer.name != "permessage-deflate" {
			continue
		}
		if p, response, ok = acceptDeflate(offer.params); ok {
			return p, response, true
		}
	}
	return deflateParams{}, "", false
}

// acceptDeflate decides one permessage-deflate offer.
func acceptDeflate(params [][2]string) (deflateParams, string, bool) {
	p := deflateParams{maxWindow: 1 << 15}
	resp := "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	seen := map[string]bool{}
	for _, kv := range params {
		name, value := kv[0], kv[1]
		if seen[name] {
			return p, "", false
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if value != "" {
				return p, "", false
			}
		case "server_max_window_bits":
			bits, ok := windowBits(value)
			if !ok {
				return p, "", false
			}
			p.maxWindow = 1 << bits
			resp += "; server_max_window_bits=" + strconv.Itoa(bits)
		case "client_max_window_bits":
			// The client can limit its window if asked; the server does
			// not ask, so the client uses 15 bits. A value must still be
			// valid.
			if value != "" {
				if _, ok := windowBits(value); !ok {
					return p, "", false
				}
			}
		default:
			return p, "", false
		}
	}
	return p, resp, true
}

// windowBits parses a window-bits value: 8 to 15, no leading zero.
func windowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params [][2]string // name, value ("" when it has none); quotes removed
}

// extensionOffers parses every Sec-WebSocket-Extensions header (RFC 6455
// section 9.1): extensions separated by commas, parameters by semicolons.
// A malformed element is returned with the name "" (never accepted).
func extensionOffers(h http.Header) []extension {
	var out []extension
	for _, v := range h.Values("Sec-Websocket-Extensions") {
		for _, item := range splitOutsideQuotes(v, ',') {
			parts := splitOutsideQuotes(item, ';')
			e := extension{name: strings.ToLower(strings.TrimSpace(parts[0]))}
			for _, p := range parts[1:] {
				name, value, _ := strings.Cut(p, "=")
				name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
				if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
					value = value[1 : len(value)-1]
				} else if strings.ContainsRune(value, '"') {
					e.name = ""
				}
				if name == "" {
					e.name = ""
				}
				e.params = append(e.params, [2]string{name, value})
			}
			if e.name != "" || len(e.params) > 0 {
				out = append(out, e)
			}
		}
	}
	return out
}

// splitOutsideQuotes splits s at sep where sep is not inside a quoted
// string.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// deflateTail ends a sync-flushed deflate block. A sender strips it from
// every compressed message; a receiver appends it before inflating (RFC
// 7692 section 7.2).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// Pools of compressors and decompressors, shared by every socket.
var (
	flateWriters = sync.Pool{New: func() any {
		// BestSpeed: a Reset costs nothing (levels 2-9 clear 256 KiB of
		// hash chains on every message), and JSON compresses well enough.
		w, _ := flate.NewWriter(nil, flate.BestSpeed)
		return w
	}}
	flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

// appendDeflate appends the compressed form of the concatenated parts to
// dst, without deflateTail.
func appendDeflate(dst []byte, parts ...[]byte) []byte {
	w := flateWriters.Get().(*flate.Writer)
	out := appendWriter{dst}
	w.Reset(&out)
	for _, p := range parts {
		_, _ = w.Write(p) // appendWriter never fails
	}
	_ = w.Flush()
	w.Reset(nil)
	flateWriters.Put(w)
	return bytes.TrimSuffix(out.b, deflateTail)
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// errInflatedTooBig: a compressed message inflates past the limit.
var errInflatedTooBig = errors.New("gqlws: inflated message too big")

// inflate appends the inflated form of a compressed message to dst, and
// stops with errInflatedTooBig as soon as it would grow past limit bytes:
// a deflate bomb costs at most limit bytes and the work to produce them.
// Any other error means the message is not a valid deflate stream.
func inflate(dst, compressed []byte, limit int64) ([]byte, error) {
	r := flateReaders.Get().(io.ReadCloser)
	defer func() {
		_ = r.(flate.Resetter).Reset(&noBytes, nil) // keep no message alive in the pool
		flateReaders.Put(r)
	}()
	src := tailReader{b: compressed}
	if err := r.(flate.Resetter).Reset(&src, nil); err != nil {
		return dst, err
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		room := cap(dst) - len(dst)
		if over := int64(len(dst)-start+room) - (limit + 1); over > 0 {
			room -= int(over) // read one byte past the limit, no more
		}
		n, err := r.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > limit {
			return dst, errInflatedTooBig
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF && src.done():
			// The end of the message: either a final block, or the
			// sync-flush tail after which the stream has no more bytes.
			return dst, nil
		case err != nil:
			return dst, err
		}
	}
}

// noBytes is what pooled decompressors point at: nothing.
var noBytes = tailReader{tail: len(deflateTail)}

// tailReader reads b, then deflateTail.
type tailReader struct {
	b    []byte
	tail int // bytes of deflateTail read
}

func (r *tailReader) Read(p []byte) (int, error) {
	if len(r.b) > 0 {
		n := copy(p, r.b)
		r.b = r.b[n:]
		return n, nil
	}
	if r.tail == len(deflateTail) {
		return 0, io.EOF
	}
	n := copy(p, deflateTail[r.tail:])
	r.tail += n
	return n, nil
}

// ReadByte lets flate read without a bufio.Reader of its own (4 KiB per
// reset otherwise).
func (r *tailReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := r.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *tailReader) done() bool { return len(r.b) == 0 && r.tail == len(deflateTail) }
