package cassandra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/blob/folder"
	"messenger/blob/s3blob"
	"messenger/storage"
	"messenger/storage/cold"
)

// coldTestBlobs is where the tests' segments go: MinIO (MESSENGER_S3_*)
// under a random prefix removed at the end, or a folder when it is unset.
func coldTestBlobs(t testing.TB) (blob.Store, string) {
	t.Helper()
	prefix := "test-" + uuid.NewString() + "/"
	endpoint := os.Getenv("MESSENGER_S3_ENDPOINT")
	if endpoint == "" {
		b, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: []byte("0123456789abcdef0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		return b, prefix
	}
	b, err := s3blob.Open(context.Background(), s3blob.Config{
		Endpoint: endpoint, Bucket: os.Getenv("MESSENGER_S3_BUCKET"), Region: os.Getenv("MESSENGER_S3_REGION"),
		AccessKey: os.Getenv("MESSENGER_S3_ACCESS_KEY"), SecretKey: os.Getenv("MESSENGER_S3_SECRET_KEY"),
		CreateBucket: true, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for {
			keys, err := b.List(ctx, prefix, "", 1000)
			if err != nil || len(keys) == 0 {
				return
			}
			for _, k := range keys {
				_ = b.Delete(ctx, k)
			}
		}
	})
	return b, prefix
}

// coldConversation makes a group with n messages sent 200 days ago, so its
// first bucket (seqs 1-999) may move.
func coldConversation(t testing.TB, s *Store, n int) (conv, user string) {
	t.Helper()
	ctx := context.Background()
	user = uuid.NewString()
	conv = uuid.NewString()
	at := time.Now().UTC().Add(-200 * 24 * time.Hour).Truncate(time.Millisecond)
	c := storage.Conversation{ID: conv, Kind: storage.Group, Title: "cold", CreatedBy: user, CreatedAt: at, LastActivityAt: at}
	if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: user, Role: storage.RoleOwner, JoinedAt: at}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		m := storage.Message{ConversationID: conv, SenderID: user, ClientMessageID: fmt.Sprint(i),
			Body: fmt.Sprintf("message number %d of a long conversation", i), SentAt: at.Add(time.Duration(i) * time.Second)}
		var err error
		for try := 0; try < 5; try++ { // a send is idempotent: retry what a loaded cluster timed out
			if _, _, err = s.AppendMessage(ctx, m); !errors.Is(err, storage.ErrUnavailable) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return conv, user
}

// history is every message of a conversation, oldest first, in one page.
func history(t testing.TB, s *Store, conv, viewer string) []storage.Message {
	t.Helper()
	got, err := s.ListMessages(context.Background(), conv, viewer, 0, 0, 5000, false)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var errCrash = errors.New("injected crash")

func coldCutoff() time.Time { return time.Now().Add(-90 * 24 * time.Hour) }

// TestColdTier runs the cold tier's crash and race tests on one keyspace
// (opening one is the slow part on a shared cluster).
func TestColdTier(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	cfg := testConfig(t)
	cfg.Timeout = 30 * time.Second // schema changes on a loaded shared cluster
	s := openTestStore(t, cfg, true)
	blobs, prefix := coldTestBlobs(t)
	s.SetColdTier(blobs, prefix)
	t.Run("MoveSurvivesACrashAtEveryStep", func(t *testing.T) { testColdMoveSurvivesACrashAtEveryStep(t, s, blobs, prefix) })
	t.Run("MoversRaceOnOneConversation", func(t *testing.T) { testColdMoversRaceOnOneConversation(t, s, blobs, prefix) })
	t.Run("MoveSurvivesKill9", func(t *testing.T) { testColdMoveSurvivesKill9(t, s, cfg, blobs, prefix) })
}

// testColdMoveSurvivesACrashAtEveryStep stops a mover right after each
// step of a bucket's move (as if its process died: no cleanup, its lease
// left behind), checks that reads are unchanged at that point, edits a
// message in the crash window, and lets a second mover finish once the
// lease expires: nothing is lost, nothing doubled, one manifest, one
// segment object.
func testColdMoveSurvivesACrashAtEveryStep(t *testing.T, s *Store, blobs blob.Store, prefix string) {
	ctx := context.Background()
	for _, step := range []cold.Step{cold.StepClaimed, cold.StepPut, cold.StepRecorded, cold.StepDropped} {
		t.Run(string(step), func(t *testing.T) {
			conv, user := coldConversation(t, s, 1003)
			want := history(t, s, conv, user)
			crashed := cold.Mover{Backend: s, Blobs: blobs, Prefix: prefix, Owner: "crashing", LeaseTTL: time.Second,
				AfterStep: func(_ string, _ int64, at cold.Step) error {
					if at == step {
						return errCrash
					}
					return nil
				}}
			if _, err := crashed.MoveConversation(ctx, conv, coldCutoff()); !errors.Is(err, errCrash) {
				t.Fatalf("crashing mover: %v", err)
			}
			if got := history(t, s, conv, user); !reflect.DeepEqual(got, want) {
				t.Fatalf("history changed by the crashed move: %d messages, want %d", len(got), len(want))
			}
			edited := time.Now().UTC().Truncate(time.Millisecond)
			if err := s.UpdateMessage(ctx, storage.Message{ConversationID: conv, Seq: 3, Body: "edited in the crash window", EditedAt: &edited}); err != nil {
				t.Fatal(err)
			}
			want[2].Body, want[2].EditedAt = "edited in the crash window", &edited

			next := cold.Mover{Backend: s, Blobs: blobs, Prefix: prefix, Owner: "next", LeaseTTL: time.Minute}
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := next.MoveConversation(ctx, conv, coldCutoff()); err != nil && !errors.Is(err, storage.ErrUnavailable) {
					t.Fatal(err) // unavailable: the next round resumes the move
				}
				m, ok, err := s.SegmentOf(ctx, conv, 0)
				if err != nil {
					t.Fatal(err)
				}
				if ok && m.HotDropped {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the crashed mover's lease never expired")
				}
				time.Sleep(200 * time.Millisecond) // the crashed lease lasts 1 s
			}
			if got := history(t, s, conv, user); !reflect.DeepEqual(got, want) {
				t.Fatalf("history after the resumed move differs:\n got %d messages, first %+v\nwant %d, first %+v", len(got), got[:min(3, len(got))], len(want), want[:3])
			}
			assertOneSegment(t, s, blobs, prefix, conv)
		})
	}
}

func assertOneSegment(t *testing.T, s *Store, blobs blob.Store, prefix, conv string) {
	t.Helper()
	keys, err := blobs.List(context.Background(), prefix+"cold/"+conv+"/", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.SegmentOf(context.Background(), conv, 0)
	if err != nil || !ok {
		t.Fatalf("manifest: %v %v", ok, err)
	}
	if len(keys) != 1 || keys[0] != m.Key || m.Count != 999 {
		t.Fatalf("segments %v, manifest %+v: want exactly the recorded one, of 999 messages", keys, m)
	}
	var n int
	if err := s.query(context.Background(), "SELECT count(*) FROM messages WHERE conversation_id = ? AND bucket = 0", conv).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 1 { // the crash-window edit stays as overlay
		t.Fatalf("%d hot rows left in the moved bucket", n)
	}
}

// testColdMoversRaceOnOneConversation runs three movers at once: the
// bucket moves once.
func testColdMoversRaceOnOneConversation(t *testing.T, s *Store, blobs blob.Store, prefix string) {
	conv, user := coldConversation(t, s, 1001)
	want := history(t, s, conv, user)
	var wg sync.WaitGroup
	moved := make([]int, 3)
	errs := make([]error, 3)
	for i := range moved {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mv := cold.Mover{Backend: s, Blobs: blobs, Prefix: prefix, Owner: fmt.Sprint("racer", i)}
			st, err := mv.MoveConversation(context.Background(), conv, coldCutoff())
			moved[i], errs[i] = st.Messages, err
		}()
	}
	wg.Wait()
	total := 0
	for i := range moved {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += moved[i]
	}
	if total > 999 {
		t.Fatalf("movers moved %v messages in all", moved)
	}
	// A mover that found the bucket leased skipped it: finish the move.
	if _, err := s.MoveCold(context.Background(), conv, coldCutoff()); err != nil {
		t.Fatal(err)
	}
	if got := history(t, s, conv, user); !reflect.DeepEqual(got, want) {
		t.Fatalf("history differs after racing movers")
	}
	assertOneSegment(t, s, blobs, prefix, conv)
}
