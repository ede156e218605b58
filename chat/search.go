package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"messenger/fault"
	"messenger/search"
	"messenger/storage"
)

// Indexer is told about changes that search must reflect, once they are
// durable. Implementations must not block (record and return): the calls
// run inside requests, and a slow or unreachable search engine must never
// slow sending. Losing a call may delay search but must not corrupt it: the
// implementation re-reads the current state from the store.
type Indexer interface {
	// MessagesChanged: messages were sent, edited or deleted for everyone.
	MessagesChanged(conversationID string, seqs ...int64)
	// MessageHidden: userID deleted a message for themself.
	MessageHidden(conversationID string, seq int64, userID string)
	// UserChanged: a user was created or changed their name.
	UserChanged(userID string)
}

func (s *Service) indexMessages(conversationID string, seqs ...int64) {
	if s.cfg.Indexer != nil {
		s.cfg.Indexer.MessagesChanged(conversationID, seqs...)
	}
}

func (s *Service) indexHidden(conversationID string, seq int64, userID string) {
	if s.cfg.Indexer != nil {
		s.cfg.Indexer.MessageHidden(conversationID, seq, userID)
	}
}

func (s *Service) indexUser(userID string) {
	if s.cfg.Indexer != nil {
		s.cfg.Indexer.UserChanged(userID)
	}
}

// SearchArgs are the arguments of a message search.
type SearchArgs struct {
	// Query is the user's text: every word must occur (see search.ParseQuery).
	Query string
	// ConversationID limits the search to one conversation ("" = all mine).
	ConversationID string
	// Order is search.Newest (default) or search.Relevance.
	Order search.Order
	// First is the page size (default 20, at most MaxPage).
	First int
	// After is the cursor of the last hit of the previous page.
	After string
}

// SearchHit is one message found, with its conversation and snippets.
type SearchHit struct {
	Message      storage.Message
	Conversation storage.Conversation
	// Highlights are HTML-escaped snippets with the matching words wrapped
	// in <mark>…</mark>.
	Highlights []string
	Cursor     string
}

// SearchPage is one page of search hits.
type SearchPage struct {
	Hits    []SearchHit
	HasNext bool
	// Total counts every hit of the search.
	Total int
}

// maxQueryRunes caps a search query's length.
const maxQueryRunes = 256

// membershipLookups bounds concurrent membership reads while scoping a search.
const membershipLookups = 16

func (s *Service) searchIndex() (search.Index, error) {
	if s.cfg.Search == nil {
		return nil, &fault.Error{Code: fault.Unavailable, Message: "search is not configured on this server"}
	}
	return s.cfg.Search, nil
}

func searchError(err error) error {
	switch {
	case errors.Is(err, search.ErrBadCursor):
		return badInput("after", "malformed cursor")
	case errors.Is(err, search.ErrUnavailable):
		return &fault.Error{Code: fault.Unavailable, Message: "search is unavailable right now; try again shortly"}
	}
	return fmt.Errorf("chat: search: %w", err)
}

// SearchMessages finds messages I may see: in conversations I am a member
// of now, sent after I joined, neither hidden by me nor deleted for
// everyone. Membership is read from the store at every search, so leaving a
// conversation takes effect at once; the text, edits, deletes and hides
// reach the index within seconds. A hit whose message changed since it was
// indexed (hidden by me, deleted, or no longer matching) is dropped from
// its page and reported to the indexer for repair.
func (s *Service) SearchMessages(ctx context.Context, me string, a SearchArgs) (SearchPage, error) {
	var page SearchPage
	idx, err := s.searchIndex()
	if err != nil {
		return page, err
	}
	text := strings.TrimSpace(a.Query)
	if n := utf8.RuneCountInString(text); n == 0 || n > maxQueryRunes {
		return page, badInput("query", fmt.Sprintf("query must be 1-%d characters", maxQueryRunes))
	}
	q := search.ParseQuery(text)
	if q.Empty() {
		return page, badInput("query", "query has no words to search for")
	}
	if a.Order == "" {
		a.Order = search.Newest
	}
	first, err := capFirst(a.First)
	if err != nil {
		return page, err
	}
	scopes, err := s.searchScopes(ctx, me, a.ConversationID)
	if err != nil {
		return page, err
	}
	res, err := idx.SearchMessages(ctx, search.MessageQuery{Viewer: me, Query: q, Scopes: scopes, Order: a.Order, First: first, After: a.After})
	if err != nil {
		return page, searchError(err)
	}
	page.HasNext, page.Total = res.HasNext, res.Total
	msgs, err := s.searchHitsAsISeeThem(ctx, me, res.Hits)
	if err != nil {
		return page, err
	}
	var ids []string
	for _, h := range res.Hits {
		if !slices.Contains(ids, h.ConversationID) {
			ids = append(ids, h.ConversationID)
		}
	}
	convs, err := s.store.Conversations(ctx, ids)
	if err != nil {
		return page, fmt.Errorf("chat: search: load conversations: %w", err)
	}
	for i, h := range res.Hits {
		m := msgs[i]
		// The index lags the store by about a second, longer when a change
		// was lost (see indexer.Indexer): never show what the store says is
		// hidden, deleted or no longer matching, and tell the indexer, so
		// the stale document is repaired.
		switch {
		case m == nil:
			s.indexHidden(h.ConversationID, h.Seq, me)
			continue
		case m.DeletedAt != nil || !q.Matches(m.Body):
			s.indexMessages(h.ConversationID, h.Seq)
			continue
		}
		page.Hits = append(page.Hits, SearchHit{
			Message: *m, Conversation: convs[h.ConversationID], Cursor: h.Cursor,
			Highlights: search.Highlights(m.Body, q, 3, 60),
		})
	}
	return page, nil
}

// searchHitsAsISeeThem reads each hit's message from the store as my
// history shows it: nil when I hid it (or it does not exist). One
// single-message read per hit, at most membershipLookups at a time.
func (s *Service) searchHitsAsISeeThem(ctx context.Context, me string, hits []search.MessageHit) ([]*storage.Message, error) {
	out := make([]*storage.Message, len(hits))
	err := boundedEach(len(hits), membershipLookups, func(i int) error {
		h := hits[i]
		ms, err := s.store.ListMessages(ctx, h.ConversationID, me, h.Seq-1, h.Seq+1, 1, false)
		if err != nil {
			return err
		}
		if len(ms) == 1 && ms[0].Seq == h.Seq {
			out[i] = &ms[0]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: search: load messages: %w", err)
	}
	return out, nil
}

// boundedEach runs fn(0..n-1) with at most limit running at once, and
// returns every error joined.
func boundedEach(n, limit int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs error
		sem  = make(chan struct{}, limit)
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = errors.Join(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// searchScopes lists what I may search: one conversation, or all of mine,
// each from the first message after I joined.
func (s *Service) searchScopes(ctx context.Context, me, conversationID string) ([]search.Scope, error) {
	if conversationID != "" {
		m, err := s.member(ctx, conversationID, me)
		if err != nil {
			return nil, err
		}
		return []search.Scope{{ConversationID: conversationID, AfterSeq: m.JoinedSeq}}, nil
	}
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: search: my conversations: %w", err)
	}
	// The store has no batch read of one user's memberships: read them
	// concurrently (a few ms for thousands on the embedded store).
	scopes := make([]search.Scope, len(ids))
	err = boundedEach(len(ids), membershipLookups, func(i int) error {
		m, err := s.store.Member(ctx, ids[i], me)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil // left between the two reads
		case err != nil:
			return err
		}
		scopes[i] = search.Scope{ConversationID: ids[i], AfterSeq: m.JoinedSeq}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: search: my memberships: %w", err)
	}
	out := scopes[:0]
	for _, sc := range scopes {
		if sc.ConversationID != "" {
			out = append(out, sc)
		}
	}
	return out, nil
}

// UserSearchPage is one page of users found.
type UserSearchPage struct {
	Users   []storage.User
	Cursors []string
	HasNext bool
}

// SearchUsers finds users whose username or a word of whose display name
// starts with query (case and accents ignored), ordered by username.
func (s *Service) SearchUsers(ctx context.Context, me, query string, first int, after string) (UserSearchPage, error) {
	var page UserSearchPage
	idx, err := s.searchIndex()
	if err != nil {
		return page, err
	}
	query = strings.TrimSpace(query)
	if n := utf8.RuneCountInString(query); n == 0 || n > 64 {
		return page, badInput("query", "query must be 1-64 characters")
	}
	if first, err = capFirst(first); err != nil {
		return page, err
	}
	res, err := idx.SearchUsers(ctx, search.UserQuery{Prefix: query, First: first, After: after})
	if err != nil {
		return page, searchError(err)
	}
	us, err := s.store.Users(ctx, res.IDs)
	if err != nil {
		return page, fmt.Errorf("chat: search users: %w", err)
	}
	mine, err := s.store.BlockedUsers(ctx, me, "", 0)
	if err != nil {
		return page, fmt.Errorf("chat: search users: blocks: %w", err)
	}
	for _, b := range mine {
		delete(us, b.BlockedID)
	}
	for i, id := range res.IDs {
		if u, ok := us[id]; ok && u.DeletedAt.IsZero() { // a deleted account is not found
			page.Users = append(page.Users, u)
			page.Cursors = append(page.Cursors, res.Cursors[i])
		}
	}
	page.HasNext = res.HasNext
	return page, nil
}
