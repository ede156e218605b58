package pebble

import "context"

// Compact compacts the whole key space, so benchmarks measure reads on a
// settled LSM rather than on the L0 files their own seeding just flushed.
func Compact(s *Store) error {
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(context.Background(), []byte{0}, []byte{0xff, 0xff, 0xff}, true)
}
