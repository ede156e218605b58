package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/ids"
	"messenger/storage"
)

func TestSearchUsersByPrefix(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		tag := fmt.Sprintf("q%04d", rand.IntN(10000))
		me := a.signUp(t, "me")
		var names []string
		for range 5 {
			names = append(names, a.signUp(t, tag+"user").Username)
		}
		sort.Strings(names)
		query := `query($q: String!, $f: Int, $a: String) { searchUsers(query: $q, first: $f, after: $a) { pageInfo { hasNextPage endCursor } edges { node { username } } } }`
		type page struct {
			SearchUsers struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct{ Node struct{ Username string } }
			}
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var got []string
			vars := map[string]any{"q": strings.ToUpper(tag), "f": 2}
			for {
				var p page
				me.Must(t, query, vars, &p)
				for _, e := range p.SearchUsers.Edges {
					got = append(got, e.Node.Username)
				}
				if !p.SearchUsers.PageInfo.HasNextPage {
					break
				}
				vars["a"] = p.SearchUsers.PageInfo.EndCursor
			}
			if slices.Equal(got, names) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("searchUsers(%q) paged %q, want %q", tag, got, names)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestSearchForAUserInThousandsOfConversations builds, through the domain
// (not the API, for speed), one user in 2,000 direct conversations and 300
// groups they joined after the groups' first message, then searches through
// the API: the count is exact and pages are full.
func TestSearchForAUserInThousandsOfConversations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 2,300 conversations")
	}
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		ctx := context.Background()
		me := a.signUp(t, "busy")
		meID, _ := ids.DecodeAs(ids.User, me.UserID)
		const directs, groups = 2000, 300
		var others []string
		for i := range directs {
			u := storage.User{ID: fmt.Sprintf("peer-%d-%d", i, rand.Uint32()), CreatedAt: time.Now()}
			u.Username, u.UsernameKey, u.DisplayName = u.ID, u.ID, u.ID
			if err := a.Store.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			others = append(others, u.ID)
		}
		want := 0
		parallel(directs, 8, func(i int) {
			c, err := a.Chat.CreateDirect(ctx, meID, others[i])
			if err != nil {
				panic(err)
			}
			if i%20 == 0 {
				if _, err := a.Chat.Send(ctx, others[i], c.ID, "k", fmt.Sprintf("quarterly numbers %d", i)); err != nil {
					panic(err)
				}
			}
		})
		want += directs / 20
		parallel(groups, 8, func(i int) {
			g, err := a.Chat.CreateGroup(ctx, others[i], fmt.Sprint("g", i), []string{others[(i+1)%directs]})
			if err != nil {
				panic(err)
			}
			if _, err := a.Chat.Send(ctx, others[i], g.ID, "before", "quarterly numbers before I joined"); err != nil {
				panic(err)
			}
			if _, err := a.Chat.AddMembers(ctx, others[i], g.ID, []string{meID}); err != nil {
				panic(err)
			}
			if _, err := a.Chat.Send(ctx, others[i], g.ID, "after", "quarterly numbers after I joined"); err != nil {
				panic(err)
			}
		})
		want += groups
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := searchMessages(t, me, map[string]any{"q": "quarterly", "f": 100})
			if r.SearchMessages.TotalCount == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("totalCount = %d, want %d", r.SearchMessages.TotalCount, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
		seen := 0
		vars := map[string]any{"q": "quarterly", "f": 100}
		start := time.Now()
		for {
			r := searchMessages(t, me, vars)
			for _, b := range r.bodies() {
				if strings.Contains(b, "before") {
					t.Fatalf("found a message sent before joining: %q", b)
				}
			}
			seen += len(r.SearchMessages.Edges)
			if !r.SearchMessages.PageInfo.HasNextPage {
				break
			}
			if len(r.SearchMessages.Edges) != 100 {
				t.Fatalf("a middle page has %d hits", len(r.SearchMessages.Edges))
			}
			vars["a"] = r.SearchMessages.PageInfo.EndCursor
		}
		if seen != want {
			t.Fatalf("paged %d hits, want %d", seen, want)
		}
		t.Logf("%s: %d conversations, paged %d hits in %v", backend, directs+groups, seen, time.Since(start))
	})
}

// TestSearchCatchesUpAfterAnOutage cuts the API off the index while messages
// are sent, edited and hidden, and restarts the indexer meanwhile (as a
// crashed process would lose its memory), then checks nothing is missing.
// Against OpenSearch the cut is a TCP proxy dropping every connection; with
// MESSENGER_TEST_OUTAGE=1 it really stops and starts the server.
func TestSearchCatchesUpAfterAnOutage(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		real := backend == "opensearch" && os.Getenv("MESSENGER_TEST_OUTAGE") == "1"
		a := startSearchAPI(t, searchAPIConfig{backend: backend, viaProxy: !real})
		alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
		dm := startDirect(t, alice, bob)
		first := sendMsg(t, alice, dm, "o0", "ticket opened")
		eventuallyFinds(t, bob, "ticket", "ticket opened")

		down := func(isDown bool) {
			switch {
			case real:
				cmd := "start"
				if isDown {
					cmd = "stop"
				}
				out, err := exec.Command("../scripts/services.sh", cmd, "opensearch").CombinedOutput()
				if err != nil {
					t.Fatalf("services.sh %s opensearch: %v\n%s", cmd, err, out)
				}
			case a.proxy != nil:
				a.proxy.SetUp(!isDown)
			default:
				a.Index.(*flakyIndex).down.Store(isDown)
			}
		}
		down(true)
		sendStart := time.Now()
		var want []string
		for i := 1; i <= 30; i++ {
			body := fmt.Sprintf("ticket update %d", i)
			sendMsg(t, alice, dm, fmt.Sprint("o", i), body)
			want = append([]string{body}, want...)
		}
		if d := time.Since(sendStart); d > 5*time.Second {
			t.Errorf("30 sends took %v while search was down: indexing must not slow sending", d)
		}
		alice.Must(t, `mutation($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id } }`, map[string]any{"m": first.SendMessage.ID, "b": "ticket reopened"}, nil)
		// The process restarts mid-outage: the new indexer knows nothing of
		// the pending messages but the watermark is behind LastSeq.
		a.startIndexer(t)
		for i := 31; i <= 40; i++ {
			body := fmt.Sprintf("ticket update %d", i)
			sendMsg(t, alice, dm, fmt.Sprint("o", i), body)
			want = append([]string{body}, want...)
		}
		down(false)
		eventuallyFinds(t, bob, "update", want...)
		// The edit made after the restart is not lost either.
		eventuallyFinds(t, bob, "reopened", "ticket reopened")
	})
}

// BenchmarkSendToSearchable measures how long a sent message takes to be
// found: sendMessage through the API, then search until it appears.
func BenchmarkSendToSearchable(b *testing.B) {
	for _, backend := range []string{"bleve", "opensearch"} {
		b.Run(backend, func(b *testing.B) {
			if backend == "opensearch" && os.Getenv("MESSENGER_OPENSEARCH_URL") == "" {
				b.Skip("MESSENGER_OPENSEARCH_URL is not set")
			}
			a := startSearchAPI(b, searchAPIConfig{backend: backend})
			alice, bob := apitest.SignUp(b, a.URL, "alice"), apitest.SignUp(b, a.URL, "bob")
			var out struct{ CreateDirectConversation struct{ ID string } }
			alice.Must(b, direct, map[string]any{"u": bob.UserID}, &out)
			dm := out.CreateDirectConversation.ID
			var delays []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				word := fmt.Sprintf("w%dx%d", i, rand.Uint32())
				start := time.Now()
				var s sent
				alice.Must(b, send, map[string]any{"c": dm, "k": word, "b": "probe " + word}, &s)
				for {
					var r searchResult
					bob.Must(b, searchQuery, map[string]any{"q": word}, &r)
					if len(r.SearchMessages.Edges) == 1 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				delays = append(delays, time.Since(start))
			}
			slices.Sort(delays)
			b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(delays[len(delays)*99/100].Milliseconds()), "p99-ms")
		})
	}
}
