package push_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"messenger/storage"
)

// More offline members than candidates reads one by one: their rows are
// paged, and the rules still apply to each (a mute holds, a mention gets
// through it), while the online members hear nothing.
func TestAGroupOfManyPushesEachOfflineMemberAndNoOnlineOne(t *testing.T) {
	mentions := func(m storage.Message, userID string) bool { return strings.Contains(m.Body, "@"+userID) }
	e := newEnv(t, envOptions{mentions: mentions})
	names := make([]string, 24)
	for i := range names {
		names[i] = fmt.Sprint("m", i)
	}
	ids := e.users(t, names...)
	sender, online, muted, mutedMentioned := ids[0], ids[1:3], ids[3], ids[4]
	var rest []storage.Member
	for _, id := range ids[1:] {
		m := storage.Member{UserID: id}
		if id == muted || id == mutedMentioned {
			m.MutedUntil = storage.MutedForever
		}
		rest = append(rest, m)
	}
	conv := e.group(t, "Many", sender, rest...)
	tokens := map[string]string{}
	for _, id := range ids {
		tokens[e.device(t, id, storage.FCM).Token] = id
	}
	for _, id := range online {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if _, err := e.chat.Subscribe(ctx, id, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{mutedMentioned: true}
	for _, id := range ids[5:] {
		want[id] = true
	}
	e.send(t, sender, conv, "hello @"+mutedMentioned)
	e.waitPushes(t, len(want))
	e.settle(t)
	got := map[string]int{}
	for _, p := range e.p.pushes(storage.FCM) {
		got[tokens[p.Device]]++
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("offline member %s got %d pushes; want 1", id, got[id])
		}
	}
	for _, id := range append([]string{sender, muted}, online...) {
		if got[id] != 0 {
			t.Errorf("%s (sender, muted or online) got %d pushes; want none", id, got[id])
		}
	}
}
