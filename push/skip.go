package push

import (
	"context"
	"fmt"

	"messenger/storage"
)

// skipPage bounds the members MessageCreated looks at before it decides a
// message needs no push job: a conversation with more members than this
// (a group) is enqueued as before, and the job's expansion decides.
const skipPage = 16

// anyRecipientDevice reports whether a member of m's conversation other
// than its sender has a registered push device, reading the store (shared
// by every instance, so a device registered on another instance is seen:
// no cache can hide it). A conversation with more than skipPage members
// counts as yes without reading devices. The answer is as of now: a device
// registered after this read missed only a message sent before it.
func (s *Service) anyRecipientDevice(ctx context.Context, m storage.Message) (bool, error) {
	members, err := s.store.Members(ctx, m.ConversationID, "", skipPage+1)
	if err != nil {
		return false, fmt.Errorf("push: members of %s: %w", m.ConversationID, err)
	}
	if len(members) > skipPage {
		return true, nil
	}
	for _, mem := range members {
		if mem.UserID == m.SenderID || mem.JoinedSeq >= m.Seq {
			continue // the expansion would skip them too
		}
		ds, err := s.store.Devices(ctx, mem.UserID)
		if err != nil {
			return false, fmt.Errorf("push: devices of %s: %w", mem.UserID, err)
		}
		if len(ds) > 0 {
			return true, nil
		}
	}
	return false, nil
}
