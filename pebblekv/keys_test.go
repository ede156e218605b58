package pebblekv

import (
	"bytes"
	"sort"
	"testing"
)

func TestAPrefixMatchesWholePartsOnly(t *testing.T) {
	p := Prefix("msg", "c1")
	if !bytes.HasPrefix(Key("msg", "c1", "0001"), p) {
		t.Fatal("a key of conversation c1 is not under c1's prefix")
	}
	if bytes.HasPrefix(Key("msg", "c10", "0001"), p) {
		t.Fatal("a key of conversation c10 is under c1's prefix")
	}
}

func TestUpperBoundsEveryKeyUnderThePrefixAndNothingElse(t *testing.T) {
	p := Prefix("r", "story")
	u := Upper(p)
	for _, k := range [][]byte{Key("r", "story", "user", "\xff\xff"), append(append([]byte{}, p...), 0xff, 0xff, 0xff)} {
		if bytes.Compare(k, p) < 0 || bytes.Compare(k, u) >= 0 {
			t.Fatalf("%q is under %q but outside [p, Upper(p))", k, p)
		}
	}
	if next := Key("r", "story2"); bytes.Compare(next, u) < 0 {
		t.Fatalf("%q is not under %q but below Upper(p)", next, p)
	}
	if Upper([]byte{0xff, 0xff}) != nil {
		t.Fatal("a prefix of 0xff bytes has no upper bound, want nil")
	}
	if got := Upper([]byte{'a', 0xff}); !bytes.Equal(got, []byte{'b'}) {
		t.Fatalf("Upper(a\\xff) = %q, want b", got)
	}
}

func TestHexKeysSortLikeTheirNumbers(t *testing.T) {
	ns := []int64{0, 1, 9, 10, 15, 16, 255, 256, 1 << 40, 1<<63 - 1}
	keys := make([]string, len(ns))
	for i, n := range ns {
		keys[i] = string(Key("msg", "c", Hex(n)))
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("keys of ascending numbers are out of order: %q", keys)
	}
}

func TestLastIsTheFinalPart(t *testing.T) {
	if got := Last(Key("hidden", "u", "c", Hex(42))); got != Hex(42) {
		t.Fatalf("Last = %q, want %q", got, Hex(42))
	}
	if got := Last([]byte("single")); got != "single" {
		t.Fatalf("Last of a one-part key = %q", got)
	}
}
