package chat

import (
	"hash/fnv"
	"sync"

	"messenger/storage"
)

// messageLocks serialise the read-check-write steps on one message within
// this process: an edit against a recall, and the cap on distinct emoji
// against concurrent new emoji. Across processes sharing a distributed
// store, an edit racing a recall is settled by the store (a tombstone is
// final, see storage.Store.UpdateMessage, and Edit re-reads after writing);
// the emoji cap may be exceeded by the few emoji added at the same moment
// through different processes.
type messageLocks struct {
	stripes [256]sync.Mutex
}

// lock locks the message with the given storage id and returns the unlock.
// Ids that name the same message in different spellings ("c.7", "c.007")
// share a lock.
func (l *messageLocks) lock(messageID string) func() {
	if conv, seq, err := storage.ParseMessageID(messageID); err == nil {
		messageID = storage.MessageID(conv, seq)
	}
	h := fnv.New32a()
	h.Write([]byte(messageID))
	m := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}
