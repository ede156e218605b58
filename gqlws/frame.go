package gqlws

import (
	"encoding/binary"
	"unicode/utf8"
)

// RFC 6455 framing, server side: frames from the client are masked, frames
// to it are not. The only extension is permessage-deflate (deflate.go),
// which uses RSV1; RSV2 and RSV3 must be zero.

// Opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close codes of RFC 6455 used by the framing layer.
const (
	closeNormal        = 1000
	closeProtocolError = 1002
	closeNoStatus      = 1005
	closeAbnormal      = 1006
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// frame is one parsed client frame; payload aliases the read buffer and is
// already unmasked.
type frame struct {
	fin     bool
	rsv1    bool // permessage-deflate: the message is compressed
	op      byte
	payload []byte
}

// parseFrame parses the frame at the start of b, unmasking its payload in
// place. It returns the frame and its length in b; n == 0 means b holds
// only part of it, and need is then how many bytes the whole frame takes
// (or a lower bound while the header is incomplete). A non-zero code is a
// protocol violation: the connection must be failed with that close code.
// limit caps the payload (a data frame's payload plus what came before it
// in the same message).
func parseFrame(b []byte, limit int64) (f frame, n, need, code int) {
	if len(b) < 2 {
		return f, 0, 2, 0
	}
	b0, b1 := b[0], b[1]
	if b0&0x30 != 0 {
		return f, 0, 0, closeProtocolError // RSV2 and RSV3: no extension uses them
	}
	f.fin, f.rsv1, f.op = b0&0x80 != 0, b0&0x40 != 0, b0&0x0f
	switch f.op {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !f.fin || b1&0x7f > 125 {
			return f, 0, 0, closeProtocolError // control frames are short and never fragmented
		}
	default:
		return f, 0, 0, closeProtocolError
	}
	if b1&0x80 == 0 {
		return f, 0, 0, closeProtocolError // a client must mask every frame
	}
	hdr, size := 2, uint64(b1&0x7f)
	switch size {
	case 126:
		if len(b) < 4 {
			return f, 0, 4 + 4, 0
		}
		size, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, 10 + 4, 0
		}
		size, hdr = binary.BigEndian.Uint64(b[2:]), 10
		if size>>63 != 0 {
			return f, 0, 0, closeProtocolError
		}
	}
	if size > uint64(max(limit, 0)) {
		return f, 0, 0, closeTooBig
	}
	hdr += 4
	total := hdr + int(size)
	if len(b) < total {
		return f, 0, total, 0
	}
	f.payload = b[hdr:total]
	unmask(b[hdr-4:hdr], f.payload)
	return f, total, total, 0
}

// unmask XORs p with the 4-byte key, eight bytes at a time.
func unmask(key, p []byte) {
	var k8 [8]byte
	for i := range k8 {
		k8[i] = key[i&3]
	}
	kw := binary.LittleEndian.Uint64(k8[:])
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^kw)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// appendHeader appends the header of a final, unmasked frame of opcode op
// carrying n payload bytes.
func appendHeader(b []byte, op byte, n int) []byte {
	return appendHeaderRSV(b, op, false, n)
}

// appendHeaderRSV is appendHeader with RSV1 set when compressed (a
// permessage-deflate message).
func appendHeaderRSV(b []byte, op byte, compressed bool, n int) []byte {
	b0 := 0x80 | op
	if compressed {
		b0 |= 0x40
	}
	b = append(b, b0)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// closePayload is a close frame's payload: the code, then the reason cut
// to fit a control frame (123 bytes) without splitting a character.
func closePayload(code int, reason string) []byte {
	if code == closeNoStatus {
		return nil
	}
	if len(reason) > 123 {
		reason = reason[:123]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	return append(b, reason...)
}

// peerClose reads a close frame from the peer: its code (1005 when it
// carries none), or fail, the code to fail the connection with when the
// payload is malformed (1002), or its reason is not UTF-8 (1007).
func peerClose(p []byte) (code, fail int) {
	switch {
	case len(p) == 0:
		return closeNoStatus, 0
	case len(p) == 1:
		return 0, closeProtocolError
	}
	code = int(binary.BigEndian.Uint16(p))
	switch {
	case code >= 3000 && code <= 4999:
	case code >= 1000 && code <= 1014 && code != 1004 && code != closeNoStatus && code != closeAbnormal:
	default:
		return 0, closeProtocolError
	}
	if !utf8.Valid(p[2:]) {
		return 0, closeInvalidData
	}
	return code, 0
}
