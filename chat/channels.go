package chat

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/storage"
	"messenger/textrules"
)

// channelKey is kindCache's value for a channel: it cannot be a DirectKey
// (those are two user ids joined by "|").
const channelKey = "\x00channel"

// kindKey is what kindCache remembers of c: the pair of a direct
// conversation, channelKey for a channel, "" for a group.
func kindKey(c storage.Conversation) string {
	if c.Kind == storage.Channel {
		return channelKey
	}
	return c.DirectKey
}

// validDescription applies a group's description rules: at most
// MaxDescription characters of message text ("" is none).
func validDescription(description string) (string, error) {
	description = strings.TrimSpace(description)
	if utf8.RuneCountInString(description) > MaxDescription {
		return "", badInput("description", fmt.Sprintf("description has at most %d characters", MaxDescription))
	}
	if description != "" {
		if err := textrules.Body(description); err != nil {
			return "", badInput("description", "description "+err.Error())
		}
	}
	return description, nil
}

// CreateChannel creates a broadcast channel owned by me: only its owner
// and admins post (checkPosting), members read and react and join through
// invite links as in a group, up to Config.MaxGroupMembers. It is stored
// as a group of kind storage.Channel, announcement-only from the start.
func (s *Service) CreateChannel(ctx context.Context, me, title, description string) (storage.Conversation, error) {
	title, err := validTitle(title)
	if err != nil {
		return storage.Conversation{}, err
	}
	if description, err = validDescription(description); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.mustExist(ctx, []string{me}); err != nil {
		return storage.Conversation{}, err
	}
	now := s.now()
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Channel, Title: title, CreatedBy: me, CreatedAt: now, LastActivityAt: now}
	c, _, err = s.store.CreateConversation(ctx, c, []storage.Member{{UserID: me, Role: storage.RoleOwner, JoinedAt: now}})
	if err != nil {
		return c, fmt.Errorf("chat: create channel: %w", err)
	}
	s.kinds.put(c.ID, channelKey)
	if description != "" {
		d := storage.GroupDetails{ConversationID: c.ID, Description: description, UpdatedAt: now}
		if err := s.store.UpdateGroupDetails(ctx, title, d); err != nil {
			return c, fmt.Errorf("chat: channel description: %w", err)
		}
	}
	s.emit(ctx, []string{me}, &ConversationUpdated{Conversation: &c})
	return c, nil
}

// IsLarge reports whether a conversation of memberCount members is above
// Config.LargeGroupThreshold. Above it (and always in a channel) per-member
// read receipts are not broadcast, typing is not broadcast and messages
// show a view count instead: see docs/large-groups-product.md. It is the
// one place the threshold is compared.
func (s *Service) IsLarge(memberCount int) bool {
	return memberCount > s.cfg.LargeGroupThreshold
}

// ShowsViews reports whether a conversation's messages show a view count
// (Message.viewCount) instead of per-member receipts: channels do. The
// answer comes from the kind cache, so a page of messages reads at most
// one conversation. Large groups (IsLarge) are to join once the stores
// keep an O(1) member count (see docs/large-groups-product.md).
func (s *Service) ShowsViews(ctx context.Context, conversationID string) (bool, error) {
	key, err := s.kindKeyOf(ctx, conversationID)
	return key == channelKey, err
}

// kindKeyOf is a conversation's kindKey, from the kind cache when there.
func (s *Service) kindKeyOf(ctx context.Context, conversationID string) (string, error) {
	if key, ok := s.kinds.get(conversationID); ok {
		return key, nil
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return "", err
	}
	key := kindKey(c)
	s.kinds.put(conversationID, key)
	return key, nil
}
