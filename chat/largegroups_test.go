package chat

import (
	"errors"
	"testing"

	"messenger/fault"
)

func TestStreamKeysCannotBeUserLogKeys(t *testing.T) {
	if got := StreamKey("abc"); got != "c:abc" {
		t.Fatalf("StreamKey = %q", got)
	}
}

func TestCompositeCursorRoundTrips(t *testing.T) {
	for _, c := range []compositeCursor{
		{},
		{Own: "ZXBvY2guMTI"},
		{Own: "ZXBvY2guMTI", Streams: map[string]string{"conv-a": "cG9zLjE", "conv-b": "cG9zLjI"}},
	} {
		got, legacy, err := parseCursor(c.String())
		if err != nil || legacy || got.Own != c.Own || len(got.Streams) != len(c.Streams) {
			t.Fatalf("parseCursor(%q) = %+v, %v, %v; want %+v", c.String(), got, legacy, err, c)
		}
		for id, pos := range c.Streams {
			if got.Streams[id] != pos {
				t.Fatalf("stream %s: %q, want %q", id, got.Streams[id], pos)
			}
		}
	}
	a := compositeCursor{Own: "x", Streams: map[string]string{"b": "2", "a": "1"}}
	b := compositeCursor{Own: "x", Streams: map[string]string{"a": "1", "b": "2"}}
	if a.String() != b.String() {
		t.Fatalf("one position, two encodings: %q %q", a, b)
	}
}

func TestLegacyCursorsAreTheOwnLogPosition(t *testing.T) {
	// memlog's and redislog's cursors are unpadded base64url.
	for _, old := range []string{"", "ZXBvY2guMTI", "YWJjLjEtMC4x"} {
		got, legacy, err := parseCursor(old)
		if err != nil || !legacy || got.Own != old || got.Streams != nil {
			t.Fatalf("parseCursor(%q) = %+v, %v, %v; want legacy", old, got, legacy, err)
		}
	}
}

func TestMalformedCompositeCursorsAreBadInput(t *testing.T) {
	for _, bad := range []string{"L1.", "L1.!!", "L1.bm90IGpzb24", "a.b", compositeCursor{Streams: map[string]string{"c": ""}}.String()} {
		_, _, err := parseCursor(bad)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.BadUserInput || fe.Field != "after" {
			t.Fatalf("parseCursor(%q) = %v; want BAD_USER_INPUT on after", bad, err)
		}
	}
}

// FuzzCompositeCursor: any cursor from a client is legacy, composite or
// BAD_USER_INPUT; never a panic; a composite one encodes back to a
// cursor that parses to the same position.
func FuzzCompositeCursor(f *testing.F) {
	for _, s := range []string{"", "ZXBvY2guMTI", "L1.", "L1.e30", compositeCursor{Own: "o", Streams: map[string]string{"c": "p"}}.String(), "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, legacy, err := parseCursor(s)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.BadUserInput {
				t.Fatalf("parseCursor(%q) = %v", s, err)
			}
			return
		}
		if legacy {
			if c.Own != s {
				t.Fatalf("legacy %q: own %q", s, c.Own)
			}
			return
		}
		back, legacy, err := parseCursor(c.String())
		if err != nil || legacy || back.Own != c.Own || len(back.Streams) != len(c.Streams) {
			t.Fatalf("round trip of %q: %+v %v %v", s, back, legacy, err)
		}
	})
}
