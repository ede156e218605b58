package chat

import (
	"context"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	"messenger/storage"
)

// ConversationArgs are Relay paging arguments for my conversations; nil
// means absent.
type ConversationArgs struct {
	First, Last   *int
	After, Before *string
	// Filter narrows the list (see ConversationFilter); the zero filter is
	// every conversation.
	Filter ConversationFilter
}

// ConversationPage is one page of my conversations, most recently active
// first.
type ConversationPage struct {
	Conversations []storage.Conversation
	Cursors       []string
	// HasNext: less recently active conversations follow the page.
	HasNext bool
	// HasPrevious: more recently active conversations precede the page.
	HasPrevious bool
}

// ConversationCursor is the opaque paging cursor of a conversation: its
// place in the order of activity when the cursor was made.
func ConversationCursor(c storage.Conversation) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.LastActivityAt.UnixNano(), 10) + ":" + c.ID))
}

// Conversations pages my conversations, pinned first (most recently
// pinned on top), then most recently active first, narrowed by a.Filter, as
// Relay's cursor connections specify: `after` and `before` bound the list,
// then `first` takes from its start or `last` from its end (20 from the
// start when neither is given). Both page flags are exact. It reads all my
// memberships (cost O(my conversations) per page).
func (s *Service) Conversations(ctx context.Context, me string, a ConversationArgs) (ConversationPage, error) {
	var page ConversationPage
	if a.First != nil && a.Last != nil {
		return page, badInput("first", "give first or last, not both")
	}
	n, field := 20, "first"
	if a.First != nil {
		n = *a.First
	} else if a.Last != nil {
		n, field = *a.Last, "last"
	}
	if n < 0 {
		return page, badInput(field, field+" must not be negative")
	}
	n = min(n, MaxPage)
	after, err := parseConversationCursor("after", a.After)
	if err != nil {
		return page, err
	}
	before, err := parseConversationCursor("before", a.Before)
	if err != nil {
		return page, err
	}
	listed, err := s.listed(ctx, me, a.Filter)
	if err != nil {
		return page, err
	}
	// Pinned conversations come first: they sort by a key above every
	// activity time (listed), which their cursors carry.
	all := make([]storage.Conversation, len(listed))
	for i, l := range listed {
		all[i] = l.key
	}
	sort.Slice(all, func(i, j int) bool { return moreRecent(all[i], all[j]) })
	sort.Slice(listed, func(i, j int) bool { return moreRecent(listed[i].key, listed[j].key) })
	lo, hi := 0, len(all)
	if after != nil {
		lo = sort.Search(len(all), func(i int) bool { return moreRecent(*after, all[i]) })
	}
	if before != nil {
		hi = sort.Search(len(all), func(i int) bool { return !moreRecent(all[i], *before) })
	}
	hi = max(hi, lo)
	start, end := lo, min(hi, lo+n)
	if a.Last != nil || (a.Before != nil && a.First == nil) {
		start, end = max(lo, hi-n), hi
	}
	for _, l := range listed[start:end] {
		page.Conversations = append(page.Conversations, l.c)
		page.Cursors = append(page.Cursors, ConversationCursor(l.key))
	}
	page.HasPrevious, page.HasNext = start > 0, end < len(all)
	return page, nil
}

// moreRecent orders conversations by last activity, newest first, ties by
// id so the order is total.
func moreRecent(a, b storage.Conversation) bool {
	if !a.LastActivityAt.Equal(b.LastActivityAt) {
		return a.LastActivityAt.After(b.LastActivityAt)
	}
	return a.ID > b.ID
}

// parseConversationCursor reads a ConversationCursor back as the place it
// names; nil when absent.
func parseConversationCursor(field string, cursor *string) (*storage.Conversation, error) {
	if cursor == nil || *cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*cursor)
	ns, id, ok := strings.Cut(string(raw), ":")
	n, err2 := strconv.ParseInt(ns, 10, 64)
	if err != nil || !ok || err2 != nil || id == "" {
		return nil, badInput(field, "malformed cursor")
	}
	return &storage.Conversation{ID: id, LastActivityAt: time.Unix(0, n)}, nil
}
