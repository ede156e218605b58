package pebble

import (
	"context"

	"messenger/pebblekv"
)

// Waveforms live at w\0<upload> -> samples (JSON), beside the upload.

// PutWaveform implements media.Store.
func (s *Store) PutWaveform(ctx context.Context, uploadID string, samples []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("w", uploadID), append([]byte{}, samples...))
	return s.commit(b)
}

// Waveforms implements media.Store.
func (s *Store) Waveforms(ctx context.Context, uploadIDs []string) (map[string][]byte, error) {
	return getEach[[]byte](ctx, s, "w", uploadIDs)
}
