package cassandra

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/media"
	"messenger/media/mediatest"
	"messenger/storage"
)

// testConfig points at the test run's Cassandra with a fresh random
// keyspace, or skips the test when there is none.
func testConfig(t testing.TB) Config { return Config{Config: cqltest.Config(t, "test_media_")} }

// openTestStore opens a store on cfg's keyspace, closed at the end of the
// test.
func openTestStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dropKeyspaceAtEnd drops cfg's keyspace when t ends.
func dropKeyspaceAtEnd(t testing.TB, cfg Config) {
	s := openTestStore(t, cfg)
	t.Cleanup(func() { cqltest.DropKeyspace(t, s.session, cfg.Keyspace) })
}

// TestContract runs the media.Store contract suite; each test gets its own
// Store (its own session, as a separate process would) on one keyspace.
func TestContract(t *testing.T) {
	cfg := testConfig(t)
	dropKeyspaceAtEnd(t, cfg)
	mediatest.RunStore(t, func(t *testing.T) media.Store { return openTestStore(t, cfg) })
}

// TestClaimsAndQuotaHoldAcrossProcesses races claims and posts through
// three stores with their own sessions, as three API processes would.
func TestClaimsAndQuotaHoldAcrossProcesses(t *testing.T) {
	cfg := testConfig(t)
	dropKeyspaceAtEnd(t, cfg)
	a, b, c := openTestStore(t, cfg), openTestStore(t, cfg), openTestStore(t, cfg)
	mediatest.RaceClaims(t, a, b, c)
	mediatest.RacePosts(t, a, b, c)
}

// TestStoriesVanishByTTL posts a story that lives two seconds: Cassandra
// itself then drops it and everything about it from every query, with no
// sweeper involved.
func TestStoriesVanishByTTL(t *testing.T) {
	cfg := testConfig(t)
	dropKeyspaceAtEnd(t, cfg)
	s := openTestStore(t, cfg)
	ctx := context.Background()
	viewer := uuid.NewString()
	at := time.Now().UTC().Truncate(time.Millisecond)
	st := media.Story{ID: uuid.NewString(), AuthorID: uuid.NewString(), UploadID: uuid.NewString(), PostedAt: at, ExpiresAt: at.Add(2 * time.Second)}
	if err := s.PutStory(ctx, st, []string{viewer}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddView(ctx, st.ID, viewer, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddStoryReaction(ctx, st.ID, viewer, "🔥", at); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Feed(ctx, viewer); len(f) != 1 {
		t.Fatalf("feed before expiry = %+v", f)
	}
	// Cassandra counts a TTL in whole seconds from the moment of each write,
	// so rows written a few milliseconds after the story may outlive it by up
	// to a second: wait until every query is empty, within a minute.
	deadline := time.Now().Add(time.Minute)
	for {
		_, serr := s.Story(ctx, st.ID)
		f, err1 := s.Feed(ctx, viewer)
		in, err2 := s.InAudience(ctx, st.ID, viewer)
		views, err3 := s.Views(ctx, st.ID, "", 10)
		n, err4 := s.CountViews(ctx, st.ID)
		seen, err5 := s.Seen(ctx, viewer, []string{st.ID})
		rs, err6 := s.StoryReactions(ctx, st.ID, viewer)
		if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
			t.Fatal(err)
		}
		if serr != nil && !errors.Is(serr, media.ErrNotFound) {
			t.Fatal(serr)
		}
		gone := errors.Is(serr, media.ErrNotFound)
		if gone && len(f) == 0 && !in && len(views) == 0 && n == 0 && !seen[st.ID] && len(rs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left a minute after expiry: story gone %v, feed %+v, audience %v, views %+v (%d), seen %v, reactions %+v", gone, f, in, views, n, seen, rs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The sweeper still finds the story, to delete its video.
	due, err := s.ExpiredStories(ctx, st.ExpiresAt.Add(time.Millisecond), 100)
	if err != nil || len(due) != 1 || due[0].UploadID != st.UploadID {
		t.Fatalf("ExpiredStories = %+v, %v; want the story, for its video", due, err)
	}
}

func TestOpenGivesUpOnAnUnreachableCluster(t *testing.T) {
	_, err := Open(context.Background(), Config{Config: cql.Config{Hosts: []string{"127.0.0.1:1"}, StartupTimeout: 2 * time.Second, ConnectTimeout: time.Second}})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Open = %v, want it to give up", err)
	}
}
