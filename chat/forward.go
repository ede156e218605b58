package chat

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"messenger/storage"
	"messenger/textrules"
)

// MaxForwardTargets caps the conversations one forwardMessage reaches.
const MaxForwardTargets = 5

// forwardIDPrefix starts the client message id of every forwarded copy:
// only such messages can carry a forward mark, so a page of history looks
// marks up for its forwarded messages alone.
const forwardIDPrefix = "fwd-"

// forwardedFilesPrefix starts the attachment id made by ForwardedFiles.
const forwardedFilesPrefix = "forwarded-files:"

// ForwardedFiles is the attachment id a forwarded copy's draft carries to
// ask the Attachments port to share the files of message messageID: the
// port records the same files for the copy (no bytes copied), after
// checking that the draft's sender may see that message, and from then on
// deleting the original for everyone must not delete bytes a copy shows.
func ForwardedFiles(messageID string) string { return forwardedFilesPrefix + messageID }

// ForwardedFilesOf reports whether attachment id is ForwardedFiles of a
// message, and which.
func ForwardedFilesOf(id string) (messageID string, ok bool) {
	return strings.CutPrefix(id, forwardedFilesPrefix)
}

// forwardClientID is the client message id of the copy of sourceID that a
// forward with clientMessageID sends: the same for a retry, so the copy is
// sent once per (message, target, client id), and short whatever the
// inputs' lengths.
func forwardClientID(sourceID, clientMessageID string) string {
	h := sha256.Sum256([]byte(sourceID + "\x00" + clientMessageID))
	return forwardIDPrefix + base64.RawURLEncoding.EncodeToString(h[:18])
}

// Forward copies a message I may see into up to MaxForwardTargets
// conversations I am a member of: its body, and its files shared rather
// than uploaded again, each copy marked as forwarded from the original
// sender (of the first message, when forwarding a forward). Every copy
// goes through Send, with its checks and fan-out. Idempotent per
// (message, target, clientMessageID): a retry returns the same copies.
// Every target is checked before anything is sent, so a refusal sends
// nothing; a failure mid-way (the store is down) leaves the earlier
// copies, which the retry returns.
func (s *Service) Forward(ctx context.Context, me, messageID string, targets []string, clientMessageID string) ([]storage.Message, error) {
	if err := textrules.ClientMessageID(clientMessageID); err != nil {
		return nil, badInput("clientMessageId", "clientMessageId "+err.Error())
	}
	switch {
	case len(targets) == 0:
		return nil, badInput("toConversationIds", "name at least one conversation to forward to")
	case len(targets) > MaxForwardTargets:
		return nil, badInput("toConversationIds", fmt.Sprintf("a message can be forwarded to at most %d conversations at once; got %d", MaxForwardTargets, len(targets)))
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t] {
			return nil, badInput("toConversationIds", "the same conversation is listed twice")
		}
		seen[t] = true
	}
	src, err := s.Message(ctx, me, messageID)
	if err != nil {
		return nil, err
	}
	if src.DeletedAt != nil {
		return nil, badInput("messageId", "a deleted message cannot be forwarded")
	}
	for _, t := range targets {
		if _, err := s.member(ctx, t, me); err != nil {
			return nil, err
		}
		// Send checks it too; checking every target first keeps a
		// refusal (a direct peer who blocked me) from sending anything.
		if err := s.mayMessageIn(ctx, me, t); err != nil {
			return nil, err
		}
	}
	origin, err := s.origin(ctx, src)
	if err != nil {
		return nil, err
	}
	var files []string
	if s.attachmentsPort() != nil {
		files = []string{ForwardedFiles(src.ID)}
	}
	out := make([]storage.Message, 0, len(targets))
	for _, t := range targets {
		key := storage.ForwardKey{ConversationID: t, SenderID: me, ClientMessageID: forwardClientID(src.ID, clientMessageID)}
		f := origin
		f.Key, f.ForwardedAt = key, s.now()
		// The mark is written before the copy, so the copy is never seen
		// without it (and a retry keeps the first mark).
		if err := s.store.PutForward(ctx, f); err != nil {
			return out, fmt.Errorf("chat: record forward: %w", err)
		}
		m, err := s.Send(ctx, me, t, key.ClientMessageID, src.Body, files...)
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// origin is the forward mark a copy of src gets: src itself, or, when src
// is a forwarded copy, what src was forwarded from.
func (s *Service) origin(ctx context.Context, src storage.Message) (storage.Forward, error) {
	marks, err := s.ForwardMarks(ctx, []storage.Message{src})
	if err != nil {
		return storage.Forward{}, err
	}
	if f, ok := marks[src.ID]; ok {
		return f, nil
	}
	return storage.Forward{SourceMessageID: src.ID, SourceSenderID: src.SenderID}, nil
}

// ForwardMarks returns, by message id, the forward marks of the forwarded
// copies among msgs (messages the caller may see): one store call for a
// page, reading only messages sent as forwards.
func (s *Service) ForwardMarks(ctx context.Context, msgs []storage.Message) (map[string]storage.Forward, error) {
	out := map[string]storage.Forward{}
	var keys []storage.ForwardKey
	byKey := map[storage.ForwardKey]string{}
	for _, m := range msgs {
		if strings.HasPrefix(m.ClientMessageID, forwardIDPrefix) {
			k := storage.ForwardKeyOf(m)
			keys = append(keys, k)
			byKey[k] = m.ID
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	marks, err := s.store.Forwards(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("chat: forward marks: %w", err)
	}
	for k, f := range marks {
		out[byKey[k]] = f
	}
	return out, nil
}
