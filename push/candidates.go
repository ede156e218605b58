package push

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
)

// pointReads bounds the members whose rows candidates reads one by one;
// past it, it pages through the whole member list (one query per page on
// Cassandra instead of one per member).
const pointReads = 16

// candidates returns the members of m's conversation who may hear of it,
// their rows read: every member but the sender, less (for a new message)
// those with a live subscription, who hear nothing whatever else holds
// (Decide: Online). Presence is asked first because it is the cheapest
// fact and, in a busy group, usually the deciding one: a message to a
// 300-member group whose members are all online used to decode 300 member
// rows and read 300 settings to send nothing (≈ 1.3 ms per message,
// issue #24); now it reads the member keys and asks presence. Their
// verdict is counted as Online even when another rule (a mute, a block)
// would also have refused them.
//
// A recall reaches every device that was told of the message, online or
// not: all members are candidates.
func (s *Service) candidates(ctx context.Context, m storage.Message, j Job) ([]storage.Member, error) {
	ids, err := s.store.MemberIDs(ctx, m.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("push: members of %s: %w", m.ConversationID, err)
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == m.SenderID {
			continue
		}
		if j.Kind != KindRecall && s.cfg.Presence != nil {
			if online, _ := s.cfg.Presence.Presence(ctx, id); online {
				s.metrics.decided(Online)
				continue
			}
		}
		want[id] = true
	}
	if len(want) == 0 {
		return nil, nil
	}
	var out []storage.Member
	if len(want) <= pointReads {
		for _, id := range ids {
			if !want[id] {
				continue
			}
			mem, err := s.store.Member(ctx, m.ConversationID, id)
			if errors.Is(err, storage.ErrNotFound) {
				continue // left since the ids were read
			}
			if err != nil {
				return nil, fmt.Errorf("push: member %s of %s: %w", id, m.ConversationID, err)
			}
			out = append(out, mem)
		}
		return out, nil
	}
	err = storage.EachMemberPage(ctx, s.store, m.ConversationID, func(page []storage.Member) error {
		for _, mem := range page {
			if want[mem.UserID] {
				out = append(out, mem)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("push: members of %s: %w", m.ConversationID, err)
	}
	return out, nil
}
