package push

import (
	"fmt"
	"unicode/utf8"
)

// maxPayload is every provider's limit on a notification's payload: APNs
// and FCM take 4 KB of JSON; Web Push services take 4 KB of encrypted body.
const maxPayload = 4096

// fit encodes n with build, cutting n.Body (at a character boundary, with
// an ellipsis) until the encoding is at most limit bytes. It fails only
// when even an empty body is too large.
func fit(n Notification, limit int, build func(Notification) ([]byte, error)) ([]byte, error) {
	b, err := build(n)
	if err != nil || len(b) <= limit {
		return b, err
	}
	runes := []rune(n.Body)
	with := func(k int) Notification {
		c := n
		c.Body = ""
		if k > 0 {
			c.Body = string(runes[:k]) + "…"
		}
		return c
	}
	// The longest prefix that fits has a length in [0, len-1].
	lo, hi := 0, len(runes)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		out, err := build(with(mid))
		if err != nil {
			return nil, err
		}
		if len(out) <= limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	out, err := build(with(lo))
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		return nil, &PermanentError{Reason: "payload_too_large", Err: fmt.Errorf("%d bytes without a body, limit %d", len(out), limit)}
	}
	return out, nil
}

// cut shortens s to at most n bytes at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
