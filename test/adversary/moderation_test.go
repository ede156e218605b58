package adversary

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"messenger/apitest"
)

// Invite links and bans on two instances sharing Cassandra: the races an
// attacker (or an unlucky crowd) can start from two load-balanced
// requests at once.

const (
	advCreateInvite = `mutation($c: ID!, $n: Int) { createInviteLink(conversationId: $c, input: {maxUses: $n}) { code } }`
	advJoin         = `mutation($code: String!) { joinByInvite(code: $code) { status } }`
	advBan          = `mutation($c: ID!, $u: ID!) { banMember(conversationId: $c, userId: $u) { until } }`
	advAdd          = `mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id } }`
	advCount        = `query($c: ID!) { conversation(id: $c) { memberCount } }`
)

// via is c talking to another instance.
func via(c *apitest.Client, in *instance) *apitest.Client {
	d := *c
	d.URL = in.URL
	return &d
}

func createInvite(t *testing.T, owner *apitest.Client, conv string, maxUses int) string {
	t.Helper()
	vars := map[string]any{"c": conv}
	if maxUses > 0 { // else unlimited
		vars["n"] = maxUses
	}
	var out struct{ CreateInviteLink struct{ Code string } }
	owner.Must(t, advCreateInvite, vars, &out)
	return out.CreateInviteLink.Code
}

// call posts one operation from a fresh client IP (each caller its own
// rate-limit bucket) and returns the first error's code.
func call(c *apitest.Client, query string, vars map[string]any) (string, error) {
	r, err := post(context.Background(), c.URL, c.Token, map[string]string{"X-Real-IP": fakeIP()}, op(query, vars))
	if err != nil {
		return "", err
	}
	return r.Code(), nil
}

func TestJoinsThroughTwoInstancesAdmitExactlyMaxUses(t *testing.T) {
	t.Parallel()
	fl := fleet(t)
	owner := signUp(t, fl[0], "inviter")
	conv := group(t, owner)
	const maxUses, joiners = 5, 16
	code := createInvite(t, owner, conv, maxUses)
	users := make([]*apitest.Client, joiners)
	for i := range users {
		users[i] = signUp(t, fl[i%2], fmt.Sprint("joiner", i))
	}
	var joined atomic.Int32
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := call(u, advJoin, map[string]any{"code": code})
			switch {
			case err != nil:
				t.Errorf("join: %v", err)
			case c == "":
				joined.Add(1)
			case c != "NOT_FOUND":
				t.Errorf("join refused with %s", c)
			}
		}()
	}
	wg.Wait()
	var out struct{ Conversation struct{ MemberCount int } }
	owner.Must(t, advCount, map[string]any{"c": conv}, &out)
	if joined.Load() != maxUses || out.Conversation.MemberCount != maxUses+1 {
		t.Fatalf("%d joined, %d members: want exactly %d joins", joined.Load(), out.Conversation.MemberCount, maxUses)
	}
}

func TestABanRacingAnAddOnTheOtherInstanceKeepsTheUserOut(t *testing.T) {
	t.Parallel()
	fl := fleet(t)
	owner := signUp(t, fl[0], "banner")
	for round := range 6 {
		victim := signUp(t, fl[1], "victim")
		conv := group(t, owner)
		code := createInvite(t, owner, conv, 0)
		var wg sync.WaitGroup
		var banCode string
		var banErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			banCode, banErr = call(owner, advBan, map[string]any{"c": conv, "u": victim.UserID})
		}()
		go func() {
			defer wg.Done()
			if round%2 == 0 {
				_, _ = call(via(owner, fl[1]), advAdd, map[string]any{"c": conv, "u": []string{victim.UserID}})
			} else {
				_, _ = call(victim, advJoin, map[string]any{"code": code})
			}
		}()
		wg.Wait()
		if banErr != nil || banCode != "" {
			t.Fatalf("round %d: ban: %v %s", round, banErr, banCode)
		}
		// A group I am not in does not exist for me.
		if c, err := call(victim, advCount, map[string]any{"c": conv}); err != nil || c != "NOT_FOUND" {
			t.Fatalf("round %d: the banned user sees the group after racing the ban (%q, %v)", round, c, err)
		}
	}
}
