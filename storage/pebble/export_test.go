package pebble

import (
	"context"

	"messenger/pebblekv"
)

// Compact compacts the whole key space, so benchmarks measure reads on a
// settled LSM rather than on the L0 files their own seeding just flushed.
func Compact(s *Store) error {
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(context.Background(), []byte{0}, []byte{0xff, 0xff, 0xff}, true)
}

// ForgetUnreadIndex makes the store look like one written before the unread
// exception keys existed: no sent or recall keys, no backfill marker.
func ForgetUnreadIndex(s *Store) error {
	for _, p := range [][]byte{pebblekv.Prefix("sent"), pebblekv.Prefix("recall")} {
		if err := s.db.DeleteRange(p, pebblekv.Upper(p), s.wo); err != nil {
			return err
		}
	}
	return s.db.Delete(unreadIndexedKey, s.wo)
}
