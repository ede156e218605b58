// Package storagetest is the contract suite every storage.Store backend
// passes. It only uses the storage.Store interface, so a backend cannot pass
// by knowing something the others don't. Every test makes its own random
// ids, so backends may share one server (one keyspace) across tests.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// Factory returns a store for one test. Closing it is the factory's job
// (register t.Cleanup there).
type Factory func(t *testing.T) storage.Store

// Run runs the whole contract suite against the stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"UsernamesAreUniqueIgnoringCase", testUsernamesUnique},
		{"UsersLookupSkipsUnknownIDs", testUsersLookup},
		{"DirectConversationIsCreatedOncePerPair", testDirectOncePerPair},
		{"SeqIsContiguousUnderConcurrentSenders", testSeqContiguous},
		{"RetriedSendReturnsTheOriginal", testIdempotentSend},
		{"SendToUnknownConversationIsNotFound", testSendUnknownConversation},
		{"HistoryPagesBothWays", testHistoryPaging},
		{"HiddenMessagesLeaveHistoryAndUnread", testHiddenMessages},
		{"MembersJoinLeaveAndPage", testMembers},
		{"CursorsOnlyMoveForward", testCursorsForward},
		{"ReceiptsAnswerWhoReadWhen", testReceipts},
		{"LateJoinersAreNotReadersOfEarlierMessages", testLateJoiners},
		{"UnreadExcludesOwnAndDeleted", testUnread},
		{"UnreadCountsSurviveConcurrentSendsAndRetries", testUnreadConcurrentSendsAndRetries},
		{"UnreadCountsSubtractHiddenAndRecalledOnce", testUnreadHiddenAndRecalled},
		{"UnreadCountsStartAtRejoin", testUnreadLeaveRejoinAndUnknown},
		{"ReactionsAreSetsPerEmoji", testReactions},
		{"EditAndTombstone", testUpdateMessage},
		{"RenameAndRoles", testRenameAndRoles},
		{"ReturnedValuesAreCopies", testCopies},
		{"ListingPagesEveryConversationAndUserOnce", testListing},
		{"CreatedMessagesArePendingFanOutUntilConfirmed", testOutbox},
		{"DeferredEventsArePendingUntilConfirmed", testDeferredEvents},
		{"DevicesArePerUserReplacedByIDAndDeletedOnce", testDevices},
		{"NotificationSettingsDefaultToZero", testNotificationSettings},
		{"SessionsAreListedPerUserAndDeleted", testSessions},
		{"SessionRotationIsCompareAndSet", testSessionRotation},
		{"PasswordChangeReplacesTheHash", testPasswordChange},
		{"BanAndTombstoneAUser", testBanAndTombstone},
		{"ReleasedUsernameIsFreeAgain", testReleaseUsername},
		{"OneUnfinishedJobPerUserAndKind", testOneUnfinishedJobPerUserAndKind},
		{"UnfinishedJobsAreListedUntilFinished", testUnfinishedJobsAreListedUntilFinished},
		{"JobLeasesHaveOneHolder", testJobLeases},
		{"MemberStatesArePrivateAndCopyMuteToTheMembership", testMemberStates},
		{"DraftsAreSavedAndClearedPerMember", testDrafts},
		{"ProfilesAndGroupDetailsAreUpdated", testProfilesAndGroupDetails},
		{"RacingOwnershipTransfersLeaveOneOwner", testOwnershipTransfers},
		{"DeletionsArePendingUntilDone", testDeletions},
		{"ChangedUsernamesAreReservedForAWhile", testUsernameChanges},
		{"BlocksAreDirectedAndListedBothWays", testBlocks},
		{"PrivacySettingsAreReplacedWhole", testPrivacySettings},
		{"ForgetPrivacyRemovesBlocksBothWaysAndSettings", testForgetPrivacy},
		{"ReportsKeepTheirSnapshotAndPageOldestFirst", testReports},
		{"ReportsPageAcrossMonths", testReportsAcrossMonths},
		{"RefsAreStoredWithTheMessage", testRefsAreStoredWithTheMessage},
		{"ThreadSummaryCountsReplies", testThreadSummaryCountsReplies},
		{"MentionsCountUntilRead", testMentionsCountUntilRead},
		{"InviteLinksAreUsedRevokedAndExpire", testInviteLinks},
		{"StreamedMarkIsStickyAndSetOnce", testStreamedMarkIsStickyAndSetOnce},
		{"StreamedIndexIsPerUser", testStreamedIndexIsPerUser},
		{"MemberCountFollowsJoinsAndRemovals", testMemberCountFollowsJoinsAndRemovals},
		{"MemberCountOfALargeCreation", testMemberCountOfALargeCreation},
		{"MemberCountIsExactUnderConcurrentChanges", testMemberCountIsExactUnderConcurrentChanges},
		{"ConcurrentInviteUsesAdmitExactlyMaxUses", testInviteMaxUsesUnderConcurrency},
		{"JoinRequestsAreTakenOnce", testJoinRequests},
		{"BansAreListedAndLifted", testBans},
		{"ModerationSettingsPatchAndSlowModeTurns", testModerationSettingsAndSlowMode},
		{"ModeratorDeletionsAndModerationLog", testModeratorDeletionsAndLog},
		{"PinsAreASetWithALimit", testPinsAreASetWithALimit},
		{"ConcurrentPinnersKeepTheLimit", testConcurrentPinnersKeepTheLimit},
		{"EditHistoryPagesAndDrops", testEditHistoryPagesAndDrops},
		{"ForwardMarksKeepTheFirst", testForwardMarksKeepTheFirst},
		{"LinkPreviewCacheExpires", testLinkPreviewCacheExpires},
		{"MessageLinkPreviewsAreReplaced", testMessageLinkPreviewsAreReplaced},
		{"ColdHistoryReadsTheSame", testColdHistoryReadsTheSame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func id() string { return uuid.NewString() }

// now is truncated to milliseconds: the precision every backend keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func mustUser(t *testing.T, s storage.Store) storage.User {
	t.Helper()
	u := storage.User{ID: id(), DisplayName: "User"}
	u.Username = "u" + strings.ReplaceAll(u.ID, "-", "")[:12]
	u.UsernameKey = strings.ToLower(u.Username)
	u.PasswordHash = "hash"
	u.CreatedAt = now()
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func mustGroup(t *testing.T, s storage.Store, owner string, others ...string) storage.Conversation {
	t.Helper()
	c := storage.Conversation{ID: id(), Kind: storage.Group, Title: "group", CreatedBy: owner, CreatedAt: now(), LastActivityAt: now()}
	members := []storage.Member{{UserID: owner, Role: storage.RoleOwner, JoinedAt: c.CreatedAt}}
	for _, o := range others {
		members = append(members, storage.Member{UserID: o, Role: storage.RoleMember, JoinedAt: c.CreatedAt})
	}
	got, created, err := s.CreateConversation(context.Background(), c, members)
	if err != nil || !created {
		t.Fatalf("CreateConversation: created=%v err=%v", created, err)
	}
	return got
}

func mustSend(t *testing.T, s storage.Store, conv, sender, body string) storage.Message {
	t.Helper()
	m, created, err := s.AppendMessage(context.Background(), storage.Message{
		ConversationID: conv, SenderID: sender, ClientMessageID: id(), Body: body, SentAt: now(),
	})
	if err != nil || !created {
		t.Fatalf("AppendMessage: created=%v err=%v", created, err)
	}
	return m
}

func testUsernamesUnique(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	dup := storage.User{ID: id(), Username: strings.ToUpper(u.Username), UsernameKey: u.UsernameKey, CreatedAt: now()}
	if err := s.CreateUser(ctx, dup); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second user with the same username key: err=%v, want ErrConflict", err)
	}
	if got, _ := s.Users(ctx, []string{dup.ID}); len(got) != 0 {
		t.Fatalf("refused user was stored: %+v", got)
	}
	got, err := s.UserByUsername(ctx, u.UsernameKey)
	if err != nil || got.ID != u.ID || got.PasswordHash != u.PasswordHash {
		t.Fatalf("UserByUsername = %+v, %v", got, err)
	}
	if _, err := s.UserByUsername(ctx, "nobody-"+id()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown username: err=%v, want ErrNotFound", err)
	}
}

func testUsersLookup(t *testing.T, s storage.Store) {
	a, b := mustUser(t, s), mustUser(t, s)
	got, err := s.Users(context.Background(), []string{a.ID, id(), b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[a.ID].Username != a.Username || got[b.ID].DisplayName != b.DisplayName {
		t.Fatalf("Users = %+v", got)
	}
	if !got[a.ID].CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v", got[a.ID].CreatedAt, a.CreatedAt)
	}
}

func testDirectOncePerPair(t *testing.T, s storage.Store) {
	a, b := mustUser(t, s), mustUser(t, s)
	pair := []string{a.ID, b.ID}
	sort.Strings(pair)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	created := make([]bool, 8)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := storage.Conversation{ID: id(), Kind: storage.Direct, CreatedAt: now(), LastActivityAt: now(), DirectKey: strings.Join(pair, "|")}
			got, ok, err := s.CreateConversation(context.Background(), c, []storage.Member{{UserID: a.ID, Role: storage.RoleMember}, {UserID: b.ID, Role: storage.RoleMember}})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], created[i] = got.ID, ok
		}(i)
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("concurrent creators got different conversations: %v", ids)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d creators were told they created it, want 1", n)
	}
	for _, u := range pair {
		convs, err := s.UserConversationIDs(context.Background(), u)
		if err != nil || len(convs) != 1 || convs[0] != ids[0] {
			t.Fatalf("UserConversationIDs(%s) = %v, %v", u, convs, err)
		}
	}
}

func testSeqContiguous(t *testing.T, s storage.Store) {
	owner := mustUser(t, s)
	c := mustGroup(t, s, owner.ID)
	const senders, each = 20, 5
	var wg sync.WaitGroup
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				_, _, err := s.AppendMessage(context.Background(), storage.Message{
					ConversationID: c.ID, SenderID: owner.ID, ClientMessageID: fmt.Sprintf("%d-%d", i, j), Body: "x", SentAt: now(),
				})
				if err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	msgs, err := s.ListMessages(context.Background(), c.ID, owner.ID, 0, 0, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != senders*each {
		t.Fatalf("got %d messages, want %d", len(msgs), senders*each)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: seqs must be 1..N in order", i, m.Seq)
		}
		if m.ID != storage.MessageID(c.ID, m.Seq) {
			t.Fatalf("message id %q does not match its seq", m.ID)
		}
	}
	got, _ := s.Conversations(context.Background(), []string{c.ID})
	if got[c.ID].LastSeq != senders*each {
		t.Fatalf("LastSeq = %d, want %d", got[c.ID].LastSeq, senders*each)
	}
}

func testIdempotentSend(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	first, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: a.ID, ClientMessageID: "same", Body: "hello", SentAt: now()})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	again, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: a.ID, ClientMessageID: "same", Body: "changed", SentAt: now().Add(time.Second)})
	if err != nil || created {
		t.Fatalf("retry: created=%v err=%v", created, err)
	}
	if again.ID != first.ID || again.Seq != first.Seq || again.Body != "hello" {
		t.Fatalf("retry returned %+v, want the original %+v", again, first)
	}
	other, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: b.ID, ClientMessageID: "same", Body: "b's", SentAt: now()})
	if err != nil || !created || other.Seq != 2 {
		t.Fatalf("another sender's same client id must be a new message: %+v created=%v err=%v", other, created, err)
	}
	got, _ := s.Conversations(ctx, []string{c.ID})
	if got[c.ID].LastSeq != 2 {
		t.Fatalf("LastSeq = %d, want 2", got[c.ID].LastSeq)
	}
}

func testSendUnknownConversation(t *testing.T, s storage.Store) {
	_, _, err := s.AppendMessage(context.Background(), storage.Message{ConversationID: id(), SenderID: id(), ClientMessageID: id(), Body: "x", SentAt: now()})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}
