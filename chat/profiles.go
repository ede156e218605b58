package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"messenger/storage"
	"messenger/textrules"
)

// Limits of profiles and group details, in characters.
const (
	MaxBio         = 160
	MaxDescription = 255
)

// ProfileChange is an updateProfile: nil fields stay as they are.
type ProfileChange struct {
	DisplayName *string
	Bio         *string
	// AvatarUploadID makes the avatar from an image upload; "" removes it.
	AvatarUploadID *string
}

// UpdateProfile changes my display name and bio. UserUpdated reaches me and
// my contacts (bounded like presence: members of my small conversations).
func (s *Service) UpdateProfile(ctx context.Context, me string, ch ProfileChange) (storage.User, error) {
	u, err := s.User(ctx, me)
	if err != nil {
		return u, err
	}
	profiles, err := s.store.Profiles(ctx, []string{me})
	if err != nil {
		return u, fmt.Errorf("chat: profile of %s: %w", me, err)
	}
	p := profiles[me]
	name, bio := u.DisplayName, p.Bio
	if ch.DisplayName != nil {
		name = strings.TrimSpace(*ch.DisplayName)
		if name == "" || utf8.RuneCountInString(name) > MaxDisplayName {
			return u, badInput("displayName", fmt.Sprintf("displayName must be 1-%d characters", MaxDisplayName))
		}
		if err := textrules.DisplayName(name); err != nil {
			return u, badInput("displayName", "displayName "+err.Error())
		}
	}
	if ch.Bio != nil {
		bio = strings.TrimSpace(*ch.Bio)
		if utf8.RuneCountInString(bio) > MaxBio {
			return u, badInput("bio", fmt.Sprintf("bio has at most %d characters", MaxBio))
		}
		if bio != "" {
			if err := textrules.Body(bio); err != nil {
				return u, badInput("bio", "bio "+err.Error())
			}
		}
	}
	avatar, err := s.avatarFrom(ctx, me, ch.AvatarUploadID, p.Avatar)
	if err != nil {
		return u, err
	}
	p.UserID, p.Bio, p.Avatar, p.UpdatedAt = me, bio, avatar, s.now()
	if err := s.store.UpdateProfile(ctx, name, p); err != nil {
		return u, fmt.Errorf("chat: update profile: %w", err)
	}
	u.DisplayName = name
	s.indexUser(me)
	to, err := s.contacts(ctx, me, maxPresenceAudience)
	if err != nil {
		s.cfg.Logger.Warn("profile update not announced", "user", me, "err", err)
	}
	s.emit(ctx, append([]string{me}, to...), &UserUpdated{UserID: me})
	return u, nil
}

// Bio returns a user's bio ("" when none).
func (s *Service) Bio(ctx context.Context, userID string) (string, error) {
	ps, err := s.store.Profiles(ctx, []string{userID})
	if err != nil {
		return "", fmt.Errorf("chat: profile of %s: %w", userID, err)
	}
	return ps[userID].Bio, nil
}

// GroupChange is an updateConversation: nil fields stay as they are.
type GroupChange struct {
	Title       *string
	Description *string
	// AvatarUploadID makes the avatar from an image upload; "" removes it.
	AvatarUploadID *string
}

// UpdateConversation changes a group's title and description (owner or
// admin). Every member hears ConversationUpdated naming what changed.
func (s *Service) UpdateConversation(ctx context.Context, me, conversationID string, ch GroupChange) (storage.Conversation, error) {
	var title, description string
	var err error
	if ch.Title != nil {
		if title, err = validTitle(*ch.Title); err != nil {
			return storage.Conversation{}, err
		}
	}
	if ch.Description != nil {
		if description, err = validDescription(*ch.Description); err != nil {
			return storage.Conversation{}, err
		}
	}
	_, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	details, err := s.store.GroupDetails(ctx, []string{conversationID})
	if err != nil {
		return c, fmt.Errorf("chat: group details: %w", err)
	}
	var changed []string
	if ch.Title == nil || title == c.Title {
		title = c.Title
	} else {
		changed = append(changed, "title")
	}
	d := details[conversationID]
	if ch.Description == nil || description == d.Description {
		description = d.Description
	} else {
		changed = append(changed, "description")
	}
	avatar, err := s.avatarFrom(ctx, me, ch.AvatarUploadID, d.Avatar)
	if err != nil {
		return c, err
	}
	if ch.AvatarUploadID != nil && (avatar != nil || d.Avatar != nil) {
		changed = append(changed, "avatar")
	}
	if len(changed) == 0 {
		return c, nil
	}
	d = storage.GroupDetails{ConversationID: conversationID, Description: description, Avatar: avatar, UpdatedAt: s.now()}
	if err := s.store.UpdateGroupDetails(ctx, title, d); err != nil {
		return c, fmt.Errorf("chat: update group: %w", err)
	}
	if c, err = s.conversation(ctx, conversationID); err != nil {
		return c, err
	}
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c, Changed: changed})
	return c, nil
}

// Description returns a group's description ("" when none).
func (s *Service) Description(ctx context.Context, conversationID string) (string, error) {
	ds, err := s.store.GroupDetails(ctx, []string{conversationID})
	if err != nil {
		return "", fmt.Errorf("chat: group details: %w", err)
	}
	return ds[conversationID].Description, nil
}

// TransferOwnership makes another member the group's owner; I become an
// admin (owner only). Two racing transfers, from any API instances, leave
// one owner: the loser gets CONFLICT.
func (s *Service) TransferOwnership(ctx context.Context, me, conversationID, userID string) (storage.Conversation, error) {
	mine, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if mine.Role != storage.RoleOwner {
		return c, forbidden("only the owner may transfer ownership")
	}
	if userID == me {
		return c, badInput("userId", "you already own this group")
	}
	err = s.store.TransferOwnership(ctx, conversationID, me, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return c, notFound("member")
	case errors.Is(err, storage.ErrConflict):
		return c, fmt.Errorf("chat: ownership changed meanwhile: %w", storage.ErrConflict)
	case err != nil:
		return c, fmt.Errorf("chat: transfer ownership: %w", err)
	}
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c, Changed: []string{"owner"}})
	return c, nil
}
