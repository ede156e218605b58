package cassandra

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"messenger/storage"
)

func TestSequencerTipKeepsEveryMessageOfTheBatch(t *testing.T) {
	at := time.Date(2026, 12, 5, 11, 0, 0, 123_000_000, time.UTC)
	msgs := []storage.Message{
		{ID: storage.MessageID("c", 7), ConversationID: "c", Seq: 7, SenderID: "u1", ClientMessageID: "k1", Body: `<b>"quoted"</b> & é 🙂`, SentAt: at},
		{ID: storage.MessageID("c", 8), ConversationID: "c", Seq: 8, SenderID: "u2", Body: "line\nbreak", SentAt: at.Add(time.Millisecond),
			MessageRefs: storage.MessageRefs{ReplyToSeq: 7, Mentions: []string{"u1"}}},
	}
	enc := encodeBatch(msgs)
	if strings.Contains(enc, `\u003c`) {
		t.Fatalf("the tip escapes HTML, making the Paxos transaction larger: %s", enc)
	}
	got := decodeBatch("c", enc)
	if !reflect.DeepEqual(got, msgs) {
		t.Fatalf("decoded tip\n%+v\nwant\n%+v", got, msgs)
	}
	tp := tipFromRow("c", map[string]any{"last_seq": int64(8), "last_batch": enc})
	if tp.first() != 7 || tp.last != 8 || len(tp.msgs) != 2 {
		t.Fatalf("tip = %d..%d with %d messages", tp.first(), tp.last, len(tp.msgs))
	}
	// A process from before migration 017 claimed seq 9 since: its
	// single-message columns are the tip.
	old := tipFromRow("c", map[string]any{"last_seq": int64(9), "last_batch": enc, "last_sender_id": "u3", "last_body": "old", "last_sent_at": at})
	if old.first() != 9 || len(old.msgs) != 1 || old.msgs[0].Body != "old" || old.msgs[0].SenderID != "u3" {
		t.Fatalf("tip after an old claimer = %+v", old)
	}
}

func TestBatchesAreBoundedByCountAndSize(t *testing.T) {
	var waiting []*send
	for i := 0; i < maxBatch+10; i++ {
		waiting = append(waiting, &send{m: storage.Message{Body: "x"}})
	}
	batch, rest := takeBatch(waiting)
	if len(batch) != maxBatch || len(rest) != 10 {
		t.Fatalf("batch of %d, rest %d; want %d and 10", len(batch), len(rest), maxBatch)
	}
	big := strings.Repeat("é", 4000)
	waiting = []*send{{m: storage.Message{Body: big}}, {m: storage.Message{Body: big}}, {m: storage.Message{Body: "small"}}}
	batch, rest = takeBatch(waiting)
	if len(batch) != 1 || len(rest) != 2 {
		t.Fatalf("two 8 KB bodies: batch of %d, rest %d; want 1 and 2", len(batch), len(rest))
	}
}
