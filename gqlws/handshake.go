package gqlws

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// handshakeTimeout bounds writing the 101 response.
const handshakeTimeout = 10 * time.Second

var acceptGUID = []byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11")

// upgrade answers the opening handshake (RFC 6455 section 4.2) and hijacks
// the connection. It returns the connection, any bytes the client sent
// after its request (read by the HTTP server already), the chosen
// subprotocol ("" when the client did not offer ours) and, when compress
// is set and the client offered permessage-deflate in a form the server
// accepts, what was agreed (nil: no compression). On error the HTTP
// response has been written. The HTTP server's buffers are not kept: an
// idle socket holds none.
func upgrade(w http.ResponseWriter, r *http.Request, checkOrigin func(*http.Request) bool, compress bool) (nc net.Conn, pre []byte, proto string, deflate *deflateParams, err error) {
	refuse := func(status int, why string) (net.Conn, []byte, string, *deflateParams, error) {
		w.Header().Set("Sec-Websocket-Version", "13")
		http.Error(w, http.StatusText(status)+": "+why, status)
		return nil, nil, "", nil, errors.New("gqlws: upgrade refused: " + why)
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return refuse(http.StatusBadRequest, "not a websocket handshake")
	}
	if r.Method != http.MethodGet {
		return refuse(http.StatusMethodNotAllowed, "websocket handshakes use GET")
	}
	if !headerHasToken(r.Header, "Sec-Websocket-Version", "13") {
		return refuse(http.StatusBadRequest, "unsupported websocket version")
	}
	if !checkOrigin(r) {
		return refuse(http.StatusForbidden, "origin not allowed")
	}
	key := strings.TrimSpace(r.Header.Get("Sec-Websocket-Key"))
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return refuse(http.StatusBadRequest, "bad Sec-WebSocket-Key")
	}
	if headerHasToken(r.Header, "Sec-Websocket-Protocol", Subprotocol) {
		proto = Subprotocol
	}
	var extensions string
	if compress {
		if p, resp, ok := negotiateDeflate(r.Header); ok {
			deflate, extensions = &p, resp
		}
	}

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return refuse(http.StatusInternalServerError, "cannot take over the connection")
	}
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		pre = append([]byte(nil), p...)
	}
	h := sha1.New()
	h.Write([]byte(key))
	h.Write(acceptGUID)
	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = base64.StdEncoding.AppendEncode(resp, h.Sum(nil))
	if proto != "" {
		resp = append(resp, "\r\nSec-WebSocket-Protocol: "...)
		resp = append(resp, proto...)
	}
	if extensions != "" {
		resp = append(resp, "\r\nSec-WebSocket-Extensions: "...)
		resp = append(resp, extensions...)
	}
	resp = append(resp, "\r\n\r\n"...)
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := nc.Write(resp); err != nil {
		_ = nc.Close()
		return nil, nil, "", nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, pre, proto, deflate, nil
}

// headerHasToken reports whether a comma-separated header lists token
// (case-insensitively).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
