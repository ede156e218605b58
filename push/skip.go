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
	ids := make([]string, 0, len(members))
	for _, mem := range members {
		if mem.JoinedSeq < m.Seq { // the expansion skips the others too
			ids = append(ids, mem.UserID)
		}
	}
	return s.anyDevice(ctx, ids, m.SenderID)
}

// anyDevice reports whether a user of ids other than sender has a
// registered device.
func (s *Service) anyDevice(ctx context.Context, ids []string, sender string) (bool, error) {
	for _, id := range ids {
		if id == sender {
			continue
		}
		ds, err := s.store.Devices(ctx, id)
		if err != nil {
			return false, fmt.Errorf("push: devices of %s: %w", id, err)
		}
		if len(ds) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// MessageCreatedFor implements chat.RecipientsNotifier: MessageCreated
// where the fan-out already read the ids of all of m's members, so only
// their devices are read (a member who joined after m counts, which can
// only enqueue a job the expansion then finds nothing for). Without ids,
// or with more than skipPage, it is MessageCreated.
func (s *Service) MessageCreatedFor(ctx context.Context, m storage.Message, memberIDs []string) error {
	if len(memberIDs) == 0 || len(memberIDs) > skipPage {
		return s.MessageCreated(ctx, m)
	}
	if any, err := s.anyDevice(ctx, memberIDs, m.SenderID); err == nil && !any {
		s.cfg.Metrics.noDevice()
		return nil
	}
	return s.enqueueCreated(ctx, m)
}
