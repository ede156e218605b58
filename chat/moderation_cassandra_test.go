package chat_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/fault"
	"messenger/realtime/memlog"
	"messenger/storage/cassandra"
)

// twoInstancesOnCassandra is two API instances (each its own Cassandra
// session, as two processes would have) on one fresh keyspace.
func twoInstancesOnCassandra(t *testing.T) (a, b *chat.Service) {
	t.Helper()
	cfg := cqltest.Config(t, "chatmod_")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var svcs [2]*chat.Service
	for i := range svcs {
		st, err := cassandra.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("cassandra.Open: %v", err)
		}
		log := memlog.New(memlog.Config{})
		t.Cleanup(func() { _ = log.Close(); _ = st.Close() }) // after the service closes
		svcs[i] = newDomainOn(t, st, log, func(c *chat.Config) { c.PasswordCost = auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1} }).svc
	}
	t.Cleanup(func() {
		s, err := cql.Open(context.Background(), cfg)
		if err == nil {
			cqltest.DropKeyspace(t, s.Session, cfg.Keyspace)
			s.Close()
		}
	})
	return svcs[0], svcs[1]
}

func signUpOn(t *testing.T, svc *chat.Service, name string) string {
	t.Helper()
	s, err := svc.SignUp(context.Background(), fmt.Sprintf("%s%d", name, time.Now().UnixNano()%1e9), "correct horse battery", name)
	if err != nil {
		t.Fatal(err)
	}
	return s.User.ID
}

// TestBanRacingAnAddOnAnotherInstanceKeepsTheUserOut: a ban on one
// instance and an add (or a join by link) of the same user on another, at
// the same moment, end with the user out, every time.
func TestBanRacingAnAddOnAnotherInstanceKeepsTheUserOut(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstancesOnCassandra(t)
	owner := signUpOn(t, a, "owner")
	for round := range 6 {
		victim := signUpOn(t, a, "victim")
		g, err := a.CreateGroup(ctx, owner, "race", nil)
		if err != nil {
			t.Fatal(err)
		}
		link, err := a.CreateInviteLink(ctx, owner, g.ID, chat.InviteLinkInput{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var banErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, banErr = a.BanMember(ctx, owner, g.ID, victim, nil) }()
		go func() {
			defer wg.Done()
			if round%2 == 0 {
				_, _ = b.AddMembers(ctx, owner, g.ID, []string{victim})
			} else {
				_, _ = b.JoinByInvite(ctx, victim, link.Code)
			}
		}()
		wg.Wait()
		if banErr != nil {
			t.Fatalf("round %d: ban: %v", round, banErr)
		}
		if _, err := a.Membership(ctx, victim, g.ID); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("round %d: a banned user is a member after racing the ban (err=%v)", round, err)
		}
	}
}

// TestConcurrentJoinsOnTwoInstancesAdmitExactlyMaxUses: joins by one link
// through two instances at once admit exactly maxUses (a Paxos
// compare-and-set on the link's uses).
func TestConcurrentJoinsOnTwoInstancesAdmitExactlyMaxUses(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstancesOnCassandra(t)
	owner := signUpOn(t, a, "owner")
	g, err := a.CreateGroup(ctx, owner, "race", nil)
	if err != nil {
		t.Fatal(err)
	}
	maxUses := 4
	link, err := a.CreateInviteLink(ctx, owner, g.ID, chat.InviteLinkInput{MaxUses: &maxUses})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]string, 12)
	for i := range users {
		users[i] = signUpOn(t, a, "joiner")
	}
	var joined atomic.Int32
	var wg sync.WaitGroup
	for i, u := range users {
		svc := a
		if i%2 == 1 {
			svc = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := svc.JoinByInvite(ctx, u, link.Code)
			if err == nil && j.Status == chat.Joined {
				joined.Add(1)
			} else if fault.CodeOf(err) != fault.NotFound {
				t.Errorf("join: %+v, %v", j, err)
			}
		}()
	}
	wg.Wait()
	n, _ := a.MemberCount(ctx, g.ID)
	if joined.Load() != int32(maxUses) || n != maxUses+1 {
		t.Fatalf("%d joined, %d members; want exactly %d joined", joined.Load(), n, maxUses)
	}
}
