package ids

import (
	"errors"
	"testing"
)

// FuzzDecode: any string a client sends as an id either decodes to a type
// and an id that encode back to the same pair, or is ErrMalformed; never a
// panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{Encode("User", "u1"), Encode("Message", "c.7"), "", "!!", "VXNlcjo", "OnU", "VXNlcg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, global string) {
		typ, id, err := Decode(global)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%q) = %v, want ErrMalformed", global, err)
			}
			return
		}
		t2, id2, err := Decode(Encode(typ, id))
		if err != nil || t2 != typ || id2 != id {
			t.Fatalf("round trip of %q: (%q,%q) -> (%q,%q,%v)", global, typ, id, t2, id2, err)
		}
		if got, err := DecodeAs(typ, global); err != nil || got != id {
			t.Fatalf("DecodeAs(%q, %q) = %q, %v", typ, global, got, err)
		}
	})
}
