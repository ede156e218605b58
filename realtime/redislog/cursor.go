package redislog

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"messenger/realtime"
)

// streamID is a Redis stream entry id, <ms>-<seq>.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, false
	}
	return streamID{ms, seq}, true
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

// position is where a subscriber stands in a stream: everything up to and
// including entry id, the ord-th entry ever added, has been delivered.
// The zero position is before the first entry of a new stream.
type position struct {
	id  streamID
	ord int64
}

// cursor encodes base64url("<epoch>.<id>.<ord>").
func cursor(epoch string, p position) string {
	raw := epoch + "." + p.id.String() + "." + strconv.FormatInt(p.ord, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseCursor(c string) (epoch string, p position, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", position{}, realtime.ErrBadCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || len(parts[0]) != epochLen {
		return "", position{}, realtime.ErrBadCursor
	}
	id, ok := parseID(parts[1])
	ord, err := strconv.ParseInt(parts[2], 10, 64)
	if !ok || err != nil || ord < 0 {
		return "", position{}, fmt.Errorf("%w: bad position", realtime.ErrBadCursor)
	}
	return parts[0], position{id, ord}, nil
}

// epochLen is the length of an epoch: 8 random bytes in hex.
const epochLen = 16

func newEpoch() string { return randomHex(epochLen / 2) }
