package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/media"
	"messenger/storage"
)

// fakeFiles gives message i (id "m<i>") i%3 files and counts the lookups.
type fakeFiles struct {
	calls atomic.Int64
	err   error
}

func (f *fakeFiles) AttachmentsOf(_ context.Context, msgs []storage.Message) (map[string][]media.Attachment, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string][]media.Attachment{}
	for _, m := range msgs {
		var n int
		fmt.Sscanf(m.ID, "m%d", &n)
		as := []media.Attachment{}
		for j := range n % 3 {
			as = append(as, media.Attachment{Upload: media.Upload{ID: fmt.Sprintf("%s-f%d", m.ID, j)}})
		}
		out[m.ID] = as
	}
	return out, nil
}

func page(n int) []storage.Message {
	out := make([]storage.Message, n)
	for i := range out {
		out[i] = storage.Message{ID: fmt.Sprint("m", i), SentAt: time.Unix(int64(i), 0)}
	}
	return out
}

// loadAll resolves every message's files at once, as gqlgen resolves a
// page's fields, and checks each got its own.
func loadAll(t *testing.T, l *Loaders, src AttachmentSource, msgs []storage.Message) error {
	t.Helper()
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			as, err := l.Attachments(context.Background(), src, m)
			if err == nil && (len(as) != i%3 || (len(as) > 0 && as[0].ID != m.ID+"-f0")) {
				err = fmt.Errorf("message %s got %+v", m.ID, as)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func TestAPageOfMessagesLoadsItsAttachmentsInOneLookup(t *testing.T) {
	src := &fakeFiles{}
	l := New(nil, Options{})
	msgs := page(50)
	l.Page(msgs)
	if err := loadAll(t, l, src, msgs); err != nil {
		t.Fatal(err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("a page of 50 made %d lookups, want 1", n)
	}
}

func TestMessagesOutsideAPageAreBatched(t *testing.T) {
	src := &fakeFiles{}
	l := New(nil, Options{Wait: 20 * time.Millisecond})
	if err := loadAll(t, l, src, page(50)); err != nil {
		t.Fatal(err)
	}
	if n := src.calls.Load(); n >= 50 {
		t.Fatalf("50 messages made %d lookups: not batched", n)
	}
}

func TestAFailedLookupFailsEveryMessageOfIt(t *testing.T) {
	src := &fakeFiles{err: errors.New("store down")}
	l := New(nil, Options{})
	msgs := page(5)
	l.Page(msgs)
	for _, m := range msgs {
		if _, err := l.Attachments(context.Background(), src, m); !errors.Is(err, src.err) {
			t.Fatalf("message %s: %v, want the store's error", m.ID, err)
		}
	}
}
