package gqlws

import (
	"errors"
	"unicode/utf8"
)

// assembler turns a client's data frames into messages: it joins
// fragments, inflates compressed messages (permessage-deflate, when
// negotiated) and checks that a text message is UTF-8 (RFC 6455 section
// 8.1: otherwise the connection fails with 1007). It holds nothing between
// messages: an idle socket has no fragment buffer and no decompressor.
type assembler struct {
	limit   int64 // longest message, after inflating
	deflate bool  // permessage-deflate was negotiated

	op         byte    // the opcode of the message being assembled; 0: none
	compressed bool    // it has RSV1 set
	frags      []byte  // its fragments so far
	out        *[]byte // the last inflated message (pooled), until the next call
}

// compressedSlack is how much longer than the limit a compressed message
// may be: deflate's stored blocks make incompressible data a little longer.
func (a *assembler) compressedLimit() int64 { return a.limit + a.limit/64 + 64 }

// frameLimit is the longest payload the data frame whose first byte is b0
// may carry: what is left of the message's limit.
func (a *assembler) frameLimit(b0 byte) int64 {
	switch {
	case b0&0x0f == opContinuation && a.op != 0:
		if a.compressed {
			return a.compressedLimit() - int64(len(a.frags))
		}
		return a.limit - int64(len(a.frags))
	case b0&0x40 != 0 && a.deflate:
		return a.compressedLimit()
	}
	return a.limit
}

// data takes one data frame (text, binary or continuation). When the frame
// ends a message, it returns the message's opcode and its bytes, which are
// valid until the next call. A non-zero code fails the connection: 1002
// for a frame out of place (RSV1 without permessage-deflate or on a
// continuation, a continuation with no message, a new message before the
// last ended), 1007 for text that is not UTF-8 or a compressed message
// that does not inflate, 1009 for a message longer than the limit.
func (a *assembler) data(f frame) (op byte, msg []byte, code int) {
	a.release()
	if f.op == opContinuation {
		if a.op == 0 || f.rsv1 {
			return 0, nil, closeProtocolError
		}
		a.frags = append(a.frags, f.payload...)
		if !f.fin {
			return 0, nil, 0
		}
		op, msg = a.op, a.frags
		a.op, a.frags = 0, nil
		return a.finish(op, msg, a.compressed)
	}
	if a.op != 0 || (f.rsv1 && !a.deflate) {
		return 0, nil, closeProtocolError
	}
	if !f.fin {
		a.op, a.compressed = f.op, f.rsv1
		a.frags = append([]byte(nil), f.payload...)
		return 0, nil, 0
	}
	return a.finish(f.op, f.payload, f.rsv1)
}

// finish inflates and checks a whole message.
func (a *assembler) finish(op byte, msg []byte, compressed bool) (byte, []byte, int) {
	if compressed {
		a.out = getBuf()
		b, err := inflate(*a.out, msg, a.limit)
		*a.out = b
		switch {
		case errors.Is(err, errInflatedTooBig):
			return 0, nil, closeTooBig
		case err != nil:
			return 0, nil, closeInvalidData
		}
		msg = b
	}
	if op == opText && !utf8.Valid(msg) {
		return 0, nil, closeInvalidData
	}
	return op, msg, 0
}

// release returns the last inflated message's buffer to the pool.
func (a *assembler) release() {
	if a.out != nil {
		putBuf(a.out)
		a.out = nil
	}
}
