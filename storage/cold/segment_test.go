package cold

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"messenger/storage"
)

func records(n int) []Record {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []Record
	for i := n; i >= 1; i-- { // any order in, seq order out
		r := Record{Message: storage.Message{ConversationID: "c1", ID: storage.MessageID("c1", int64(i)), Seq: int64(i), SenderID: "u",
			ClientMessageID: fmt.Sprint(i), Body: fmt.Sprintf("hello %d", i), SentAt: at.Add(time.Duration(i) * time.Second)}}
		if i%4 == 0 {
			r.HiddenBy = []string{"v"}
			r.EditedAt = &at
			r.ReplyToSeq = int64(i - 1)
		}
		out = append(out, r)
	}
	return out
}

func TestSegmentRoundTripsInSeqOrder(t *testing.T) {
	in := records(50)
	data, sum, err := Encode("c1", 0, in)
	if err != nil {
		t.Fatal(err)
	}
	again, sum2, _ := Encode("c1", 0, in)
	if sum != sum2 || string(again) != string(data) {
		t.Fatal("the same records gave different segments")
	}
	h, out, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.Count != 50 || h.FirstSeq != 1 || h.LastSeq != 50 || len(out) != 50 {
		t.Fatalf("header %+v, %d records", h, len(out))
	}
	for i, r := range out {
		want := in[len(in)-1-i]
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("record %d = %+v, want %+v", i, r, want)
		}
	}
}

func TestCorruptSegmentsAreRefused(t *testing.T) {
	data, _, err := Encode("c1", 0, records(20))
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, len(Magic) + 2, len(data) / 2, len(data) - 1} {
		bad := append([]byte(nil), data...)
		bad[at] ^= 0x40
		if _, _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped byte %d: err = %v, want ErrCorrupt", at, err)
		}
	}
	if _, _, err := Decode(data[:len(data)-3]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	data, _, _ := Encode("c1", 0, records(3))
	f.Add(data)
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, recs, err := Decode(b)
		if err == nil && recs == nil && len(b) == 0 {
			t.Fatal("empty input decoded")
		}
	})
}
