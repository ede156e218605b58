package chat

import (
	"errors"
	"testing"

	"messenger/fault"
)

// FuzzMessageCursor: a history cursor from a client either names a seq
// that MessageCursor gives back, or is refused as BAD_USER_INPUT on the
// argument it came in; never a panic, never a negative seq.
func FuzzMessageCursor(f *testing.F) {
	for _, s := range []string{MessageCursor(0), MessageCursor(42), MessageCursor(1 << 62), "", "c2VxOg", "c2VxOi0x", "!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := parseMessageCursor("before", c)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.BadUserInput || fe.Field != "before" {
				t.Fatalf("parseMessageCursor(%q) = %v", c, err)
			}
			return
		}
		if seq < 0 {
			t.Fatalf("parseMessageCursor(%q) = %d", c, seq)
		}
		if back, err := parseMessageCursor("after", MessageCursor(seq)); err != nil || back != seq {
			t.Fatalf("round trip of %d: %d, %v", seq, back, err)
		}
	})
}
