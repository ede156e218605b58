package server_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

// thousandGroup is a 1,000-member group: the owner and 999 members, with
// the owner's messages.
type thousandGroup struct {
	api      *testAPI
	owner    *apitest.Client
	members  []*apitest.Client
	conv     string
	messages []string
}

func newThousandGroup(tb testing.TB, api *testAPI, messages int) *thousandGroup {
	tb.Helper()
	users := api.signUpMany(tb, "k", 1000)
	g := &thousandGroup{api: api, owner: users[0], members: users[1:]}
	ids := make([]string, len(g.members))
	for i, m := range g.members {
		ids[i] = m.UserID
	}
	var out struct{ CreateGroup struct{ ID string } }
	g.owner.Must(tb, createGroupOp, map[string]any{"t": "a thousand", "m": ids}, &out)
	g.conv = out.CreateGroup.ID
	for i := range messages {
		var m sent
		g.owner.Must(tb, send, map[string]any{"c": g.conv, "k": fmt.Sprint(i), "b": fmt.Sprintf("message %d to a thousand", i+1)}, &m)
		g.messages = append(g.messages, m.SendMessage.ID)
	}
	return g
}

// receiptsOf reads message id's receipt for each user, 100 per request.
func receiptsOf(t *testing.T, asker *apitest.Client, id string, users []*apitest.Client) map[string]receiptView {
	t.Helper()
	out := map[string]receiptView{}
	for start := 0; start < len(users); start += 100 {
		batch := users[start:min(start+100, len(users))]
		var q strings.Builder
		q.WriteString(`query($m: ID!) { node(id: $m) { ... on Message {`)
		for i, u := range batch {
			fmt.Fprintf(&q, ` r%d: receipt(userId: %q) { readAt deliveredAt }`, i, u.UserID)
		}
		q.WriteString(` } } }`)
		var res struct{ Node map[string]receiptView }
		asker.Must(t, q.String(), map[string]any{"m": id}, &res)
		for i, u := range batch {
			r, ok := res.Node[fmt.Sprint("r", i)]
			if !ok {
				t.Fatalf("no receipt for %s", u.Username)
			}
			out[u.UserID] = r
		}
	}
	return out
}

// TestThousandMemberGroupReceipts: 999 members read in ten waves, each wave
// in parallel and at its own time; the first wave reads only the first
// message, and the rest later. Counts, "read by" pages and every member's
// receipt must agree with what happened, exactly.
func TestThousandMemberGroupReceipts(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	g := newThousandGroup(t, api, 3)
	m1, m3 := g.messages[0], g.messages[2]

	readM1 := map[string]time.Time{} // user id -> when their cursor reached m1
	readM3 := map[string]time.Time{}
	var mu sync.Mutex
	readWave := func(wave []*apitest.Client, seq int, when time.Time) {
		parallel(len(wave), 16, func(i int) {
			markRead(t, wave[i], g.conv, seq)
			mu.Lock()
			defer mu.Unlock()
			if _, ok := readM1[wave[i].UserID]; !ok {
				readM1[wave[i].UserID] = when
			}
			if seq >= 3 {
				readM3[wave[i].UserID] = when
			}
		})
	}
	var waves [][]*apitest.Client
	for start := 0; start < len(g.members); start += 100 {
		waves = append(waves, g.members[start:min(start+100, len(g.members))])
	}
	for w, wave := range waves {
		seq := 3
		if w == 0 {
			seq = 1
		}
		readWave(wave, seq, clk.Advance(time.Minute))
	}
	readWave(waves[0], 3, clk.Advance(time.Minute))
	markRead(t, g.owner, g.conv, 3) // the sender reading is not a receipt

	asker := g.members[500]
	for i, id := range g.messages {
		m := message(t, asker, id)
		if m.ReadCount != 999 || m.DeliveredCount != 999 {
			t.Fatalf("m%d: readCount %d deliveredCount %d, want 999 and 999", i+1, m.ReadCount, m.DeliveredCount)
		}
	}

	for _, c := range []struct {
		id   string
		want map[string]time.Time
	}{{m1, readM1}, {m3, readM3}} {
		got := pageAll(t, asker, c.id, "readBy", 100)
		if len(got) != 999 {
			t.Fatalf("readBy lists %d members, want 999", len(got))
		}
		if _, ok := got[g.owner.UserID]; ok {
			t.Fatal("readBy lists the sender")
		}
		for id, want := range c.want {
			gt := got[id]
			if !sameTime(t, &gt, want) {
				t.Fatalf("readBy says %s read at %s, want %s", id, gt, at(want))
			}
		}
	}

	// Every member's receipt, and the order they read in.
	for _, c := range []struct {
		id   string
		want map[string]time.Time
	}{{m1, readM1}, {m3, readM3}} {
		rs := receiptsOf(t, asker, c.id, g.members)
		for id, want := range c.want {
			if r := rs[id]; !sameTime(t, r.ReadAt, want) || !sameTime(t, r.DeliveredAt, want) {
				t.Fatalf("receipt(%s) = %+v, want read and delivered at %s", id, r, at(want))
			}
		}
		// Sorted by receipt time, the readers come wave by wave in the
		// order the waves read (for m3 the first wave read last).
		wave := map[string]int{}
		for w, ws := range waves {
			for _, u := range ws {
				wave[u.UserID] = w
				if c.id == m3 && w == 0 {
					wave[u.UserID] = len(waves)
				}
			}
		}
		byTime := append([]*apitest.Client(nil), g.members...)
		readAt := func(u *apitest.Client) time.Time {
			tm, _ := time.Parse(time.RFC3339Nano, *rs[u.UserID].ReadAt)
			return tm
		}
		sort.SliceStable(byTime, func(i, j int) bool { return readAt(byTime[i]).Before(readAt(byTime[j])) })
		for i := 1; i < len(byTime); i++ {
			if wave[byTime[i].UserID] < wave[byTime[i-1].UserID] {
				t.Fatalf("by receipt time %s (wave %d) read before %s (wave %d)", byTime[i-1].Username, wave[byTime[i-1].UserID], byTime[i].Username, wave[byTime[i].UserID])
			}
		}
	}
}

// TestABulkAddDoesNotPushOutMissedEvents: adding 1,100 people at once must
// not flood every member's event log (which keeps the last 1,024 events):
// a member who was offline meanwhile still resumes from their cursor and
// learns who joined.
func TestABulkAddDoesNotPushOutMissedEvents(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	owner, alice := api.signUp(t, "owner"), api.signUp(t, "alice")
	group := createGroup(t, owner, "bulk", alice)
	events := subscribe(t, alice)
	sendMsg(t, owner, group, "1", "before")
	cursor := events.NextOfType(t, "MessageAdded").Cursor
	events.Close()

	newcomers := api.signUpMany(t, "new", 1100)
	ids := make([]string, len(newcomers))
	for i, c := range newcomers {
		ids[i] = c.UserID
	}
	newcomerEvents := subscribe(t, newcomers[0])
	var added struct{ AddMembers struct{ MemberCount int } }
	owner.Must(t, addMembersOp, map[string]any{"c": group, "u": ids}, &added)
	if added.AddMembers.MemberCount != 1102 {
		t.Fatalf("memberCount %d", added.AddMembers.MemberCount)
	}
	sendMsg(t, owner, group, "2", "welcome, all of you")

	resumed := alice.Subscribe(t.Context(), t, cursor)
	var missed []string
	for {
		ev, errs := resumed.NextOrError(t, 5*time.Second)
		if errs != nil {
			t.Fatalf("resuming after the bulk add: %+v", errs)
		}
		missed = append(missed, ev.Typename)
		if ev.Typename == "MessageAdded" {
			if !slices.Contains(missed, "ConversationUpdated") {
				t.Fatalf("alice missed %v: nothing told her the members changed", missed)
			}
			if ev.Message.Seq != 2 {
				t.Fatalf("resumed with message %d", ev.Message.Seq)
			}
			break
		}
	}
	// A newcomer learns of the group they are in, once.
	if e := newcomerEvents.NextOfType(t, "MemberJoined"); e.User.ID != newcomers[0].UserID || e.Conversation.ID != group {
		t.Fatalf("a newcomer got %s", e.Raw)
	}
	if evs := newcomerEvents.Collect(t, quiet); len(ofType(evs, "MemberJoined")) > 0 {
		t.Fatalf("a newcomer got %d more MemberJoined", len(ofType(evs, "MemberJoined")))
	}
	var conv struct{ Conversation struct{ MemberCount int } }
	newcomers[7].Must(t, `query($c: ID!) { conversation(id: $c) { memberCount } }`, map[string]any{"c": group}, &conv)
	if conv.Conversation.MemberCount != 1102 {
		t.Fatalf("a newcomer sees %d members", conv.Conversation.MemberCount)
	}
}
