// Package pebblekv is what the Pebble backends (the chat store,
// storage/pebble, and the media metadata, media/pebble) share about
// laying records out in one ordered key space: keys built from parts
// joined by a zero byte, prefixes and their upper bounds for range scans,
// fixed-width numbers that sort like the numbers they encode, one way to
// walk a range, and a logger that keeps Pebble's chatter out of the API's
// logs. Each backend keeps its own key names and values.
package pebblekv

import (
	"fmt"
	"strings"
)

// Key joins parts with a zero byte, which no id, username or emoji
// contains, so one key's prefix never matches another's parts.
func Key(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}

// Prefix is Key(parts...) followed by the separator: every key whose
// leading parts are exactly parts starts with it.
func Prefix(parts ...string) []byte {
	return append(Key(parts...), 0)
}

// Upper is the smallest key greater than every key starting with p, the
// exclusive upper bound of a scan of p; nil (no bound) when p is all 0xff.
func Upper(p []byte) []byte {
	u := append([]byte(nil), p...)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

// Hex is n as 16 hex digits, so that for n >= 0 keys sort as the numbers
// do (sequence numbers, Unix times).
func Hex(n int64) string { return fmt.Sprintf("%016x", n) }

// Last returns the part of k after its last separator.
func Last(k []byte) string {
	i := strings.LastIndexByte(string(k), 0)
	return string(k[i+1:])
}
