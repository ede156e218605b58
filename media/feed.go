package media

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// StoryGroup is one author's live stories in my feed.
type StoryGroup struct {
	AuthorID string
	// Stories in the order they were posted (playback order).
	Stories []Story
	// Latest is when the newest was posted.
	Latest time.Time
	Cursor string
}

// FeedPage is one page of my story feed.
type FeedPage struct {
	Groups  []StoryGroup
	HasNext bool
}

// Feed pages my contacts' live stories grouped by author, the author with
// the newest story first.
func (s *Service) Feed(ctx context.Context, me string, first int, after string) (FeedPage, error) {
	if first < 0 || first > 100 {
		return FeedPage{}, badInput("first", "first must be 0-100")
	}
	sts, err := s.stories.Feed(ctx, me)
	if err != nil {
		return FeedPage{}, fmt.Errorf("media: feed: %w", err)
	}
	now := s.now()
	by := map[string]*StoryGroup{}
	for _, st := range sts {
		if !now.Before(st.ExpiresAt) {
			continue
		}
		g := by[st.AuthorID]
		if g == nil {
			g = &StoryGroup{AuthorID: st.AuthorID}
			by[st.AuthorID] = g
		}
		g.Stories = append(g.Stories, st)
		if st.PostedAt.After(g.Latest) {
			g.Latest = st.PostedAt
		}
	}
	groups := make([]StoryGroup, 0, len(by))
	for _, g := range by {
		sort.Slice(g.Stories, func(i, j int) bool { return g.Stories[i].PostedAt.Before(g.Stories[j].PostedAt) })
		g.Cursor = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%019d|%s", g.Latest.UnixNano(), g.AuthorID)))
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if !groups[i].Latest.Equal(groups[j].Latest) {
			return groups[i].Latest.After(groups[j].Latest)
		}
		return groups[i].AuthorID < groups[j].AuthorID
	})
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		ns, author, ok := strings.Cut(string(b), "|")
		n, perr := strconv.ParseInt(ns, 10, 64)
		if err != nil || !ok || perr != nil {
			return FeedPage{}, badInput("after", "malformed cursor")
		}
		at := time.Unix(0, n)
		i := sort.Search(len(groups), func(i int) bool {
			g := groups[i]
			return g.Latest.Before(at) || (g.Latest.Equal(at) && g.AuthorID > author)
		})
		groups = groups[i:]
	}
	p := FeedPage{Groups: groups}
	if len(groups) > first {
		p.Groups, p.HasNext = groups[:first], true
	}
	return p, nil
}
