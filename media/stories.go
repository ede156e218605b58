package media

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/chat"
	"messenger/textrules"
)

// MaxCaptionRunes caps a story's caption.
const MaxCaptionRunes = 500

// PostStory posts one of my video uploads as a story, visible to my
// contacts (everyone who shares a conversation with me now) until
// StoryTTL has passed. The video must be at most MaxVideoDuration long, as
// read from its container when it was uploaded. At most StoriesPerDay
// stories in any rolling StoryTTL window (deleted ones count): the next one
// is RATE_LIMITED with extensions.retryAt.
func (s *Service) PostStory(ctx context.Context, me, uploadID, caption string) (Story, error) {
	if !utf8.ValidString(caption) || utf8.RuneCountInString(caption) > MaxCaptionRunes {
		return Story{}, badInput("caption", fmt.Sprintf("the caption must be at most %d characters", MaxCaptionRunes))
	}
	if caption != "" {
		if err := textrules.Body(caption); err != nil {
			return Story{}, badInput("caption", "the caption "+err.Error())
		}
	}
	u, err := s.Upload(ctx, me, uploadID)
	switch {
	case err != nil:
		return Story{}, err
	case !u.Ready:
		return Story{}, badInput("uploadId", "the upload is not confirmed yet: call confirmUpload first")
	case u.Kind != Video:
		return Story{}, badInput("uploadId", "a story must be a video (MP4 or QuickTime), not "+u.ContentType)
	case u.Size > MaxVideoBytes:
		return Story{}, badInput("uploadId", fmt.Sprintf("the video is larger than %d MiB, the limit of stories", MaxVideoBytes>>20))
	case u.Duration > MaxVideoDuration:
		return Story{}, badInput("uploadId", fmt.Sprintf("the video is %.1f s long; stories are at most %d s", u.Duration.Seconds(), int(MaxVideoDuration/time.Second)))
	case u.Claim != "":
		return Story{}, badInput("uploadId", "this upload is already used")
	}
	// The store decides the quota (one post slot per story, reserved
	// atomically across every API process), then the upload is claimed; a
	// post whose upload was taken meanwhile gives its slot back.
	now := s.now()
	st := Story{ID: uuid.NewString(), AuthorID: me, UploadID: u.ID, Caption: caption, PostedAt: now, ExpiresAt: now.Add(s.cfg.StoryTTL)}
	var quota *QuotaError
	switch err := s.stories.ReservePost(ctx, me, st.ID, now, s.cfg.StoryTTL, s.cfg.StoriesPerDay); {
	case errors.As(err, &quota):
		return Story{}, chat.RateLimitedUntil(fmt.Sprintf("at most %d stories in 24 hours; the next one is allowed at %s", s.cfg.StoriesPerDay, quota.RetryAt.Format(time.RFC3339)), quota.RetryAt)
	case err != nil:
		return Story{}, fmt.Errorf("media: reserve story slot: %w", err)
	}
	if err := s.uploads.Claim(ctx, []string{u.ID}, "s:"+st.ID); err != nil {
		if rerr := s.stories.ReleasePost(context.WithoutCancel(ctx), me, st.ID, now); rerr != nil {
			s.cfg.Logger.Warn("media: story slot not released", "story", st.ID, "err", rerr)
		}
		if errors.Is(err, ErrClaimed) || errors.Is(err, ErrNotFound) {
			return Story{}, badInput("uploadId", "this upload is already used")
		}
		return Story{}, fmt.Errorf("media: claim story video: %w", err)
	}
	audience, err := s.contacts(ctx, me)
	if err != nil {
		return Story{}, err
	}
	if err := s.stories.PutStory(ctx, st, audience); err != nil {
		return Story{}, fmt.Errorf("media: store story: %w", err)
	}
	s.chat.Publish(ctx, audience, &StoryPosted{StoryID: st.ID, AuthorID: me})
	return st, nil
}

// contacts lists everyone who shares a conversation with me, up to MaxAudience.
func (s *Service) contacts(ctx context.Context, me string) ([]string, error) {
	convs, err := s.members.UserConversationIDs(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("media: my conversations: %w", err)
	}
	seen := map[string]bool{me: true}
	var out []string
	for _, c := range convs {
		ms, err := s.members.Members(ctx, c, "", 0)
		if err != nil {
			return nil, fmt.Errorf("media: members of %s: %w", c, err)
		}
		for _, m := range ms {
			if !seen[m.UserID] && len(out) < s.cfg.MaxAudience {
				seen[m.UserID] = true
				out = append(out, m.UserID)
			}
		}
	}
	return out, nil
}

// Story returns a story I may see (mine, or one whose audience I am in),
// until it expires.
func (s *Service) Story(ctx context.Context, me, id string) (Story, error) {
	st, err := s.stories.Story(ctx, id)
	if err != nil || !s.now().Before(st.ExpiresAt) {
		return Story{}, notFound("story")
	}
	if st.AuthorID == me {
		return st, nil
	}
	ok, err := s.stories.InAudience(ctx, id, me)
	if err != nil {
		return Story{}, fmt.Errorf("media: story audience: %w", err)
	}
	if !ok {
		return Story{}, notFound("story")
	}
	return st, nil
}

// ViewStory records my first view of a story (the poster's own views are
// not counted).
func (s *Service) ViewStory(ctx context.Context, me, id string) (Story, error) {
	st, err := s.Story(ctx, me, id)
	if err != nil || st.AuthorID == me {
		return st, err
	}
	if _, err := s.views.AddView(ctx, id, me, s.now()); err != nil {
		return st, fmt.Errorf("media: record view: %w", err)
	}
	return st, nil
}

// ReactToStory adds my emoji reaction (message rules: exactly one emoji;
// the same one twice is a no-op). The poster gets a StoryReaction event.
func (s *Service) ReactToStory(ctx context.Context, me, id, emoji string) (Story, error) {
	if err := chat.ValidEmoji(emoji); err != nil {
		return Story{}, err
	}
	st, err := s.Story(ctx, me, id)
	if err != nil {
		return st, err
	}
	added, err := s.views.AddStoryReaction(ctx, id, me, emoji, s.now())
	if err != nil {
		return st, fmt.Errorf("media: react: %w", err)
	}
	if added && st.AuthorID != me {
		s.chat.Publish(ctx, []string{st.AuthorID}, &StoryReaction{StoryID: id, UserID: me, Emoji: emoji})
	}
	return st, nil
}

// DeleteStory removes my story and its video.
func (s *Service) DeleteStory(ctx context.Context, me, id string) error {
	st, err := s.Story(ctx, me, id)
	if err != nil {
		return err
	}
	if st.AuthorID != me {
		return forbidden("only the poster may delete a story")
	}
	if err := s.stories.DeleteStory(ctx, id); err != nil {
		return fmt.Errorf("media: delete story: %w", err)
	}
	return s.dropUpload(ctx, st.UploadID)
}

func (s *Service) dropUpload(ctx context.Context, id string) error {
	if err := s.blobs.Delete(ctx, BlobKey(id)); err != nil {
		return fmt.Errorf("media: delete upload bytes: %w", err)
	}
	if err := s.dropThumbnails(ctx, id); err != nil {
		return err
	}
	return wrap("delete upload", s.uploads.DeleteUpload(ctx, id))
}

// Viewers pages who viewed my story, in the order they first viewed it.
func (s *Service) Viewers(ctx context.Context, me string, st Story, first int, after string) ([]View, bool, error) {
	if st.AuthorID != me {
		return nil, false, forbidden("only the poster sees who viewed a story")
	}
	if first < 0 || first > 100 {
		return nil, false, badInput("first", "first must be 0-100")
	}
	var cur string
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil {
			return nil, false, badInput("after", "malformed cursor")
		}
		cur = string(b)
	}
	vs, err := s.views.Views(ctx, st.ID, cur, first+1)
	if errors.Is(err, ErrBadCursor) {
		return nil, false, badInput("after", "malformed cursor")
	}
	if err != nil {
		return nil, false, fmt.Errorf("media: views: %w", err)
	}
	more := len(vs) > first
	if more {
		vs = vs[:first]
	}
	for i := range vs {
		vs[i].Cursor = base64.RawURLEncoding.EncodeToString([]byte(vs[i].Cursor))
	}
	return vs, more, nil
}

// ViewCount counts a story's viewers (for the poster).
func (s *Service) ViewCount(ctx context.Context, me string, st Story) (int, error) {
	if st.AuthorID != me {
		return 0, nil
	}
	return s.views.CountViews(ctx, st.ID)
}

// SeenByMe reports whether I viewed the story (my own: always).
func (s *Service) SeenByMe(ctx context.Context, me string, st Story) (bool, error) {
	if st.AuthorID == me {
		return true, nil
	}
	m, err := s.views.Seen(ctx, me, []string{st.ID})
	return m[st.ID], wrap("seen", err)
}

// StoryReactions counts a story's reactions per emoji.
func (s *Service) StoryReactions(ctx context.Context, me string, st Story) ([]ReactionCount, error) {
	rs, err := s.views.StoryReactions(ctx, st.ID, me)
	return rs, wrap("story reactions", err)
}

// StoryVideo returns a story's upload (for its URL and duration).
func (s *Service) StoryVideo(ctx context.Context, st Story) (Upload, error) {
	us, err := s.uploads.Uploads(ctx, []string{st.UploadID})
	if err != nil {
		return Upload{}, fmt.Errorf("media: story video: %w", err)
	}
	u, ok := us[st.UploadID]
	if !ok {
		return Upload{}, notFound("story")
	}
	return u, nil
}
