package chat

import (
	"hash/fnv"
	"sync"

	"messenger/storage"
)

// messageLocks serialise the read-check-write steps on one message within
// this process: an edit against a recall (an edit that read the message
// before the recall must not write its body back over the tombstone, nor
// broadcast it), and the cap on distinct emoji against concurrent new
// emoji. The store has no compare-and-set for these, so across several API
// processes sharing a distributed store the races remain; closing them there
// needs conditional writes in the store (see the storage notes).
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
