package media

import (
	"hash/fnv"
	"sync"
)

// stripes serialise work on one key within this process.
type stripes [64]sync.Mutex

func (s *stripes) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &s[h.Sum32()%uint32(len(s))]
	m.Lock()
	return m.Unlock
}
