package cassandra

import (
	"context"
	"errors"
	"sync"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
)

// PutWaveform implements media.Store.
func (s *Store) PutWaveform(ctx context.Context, uploadID string, samples []byte) error {
	err := s.query(ctx, "INSERT INTO media_waveforms (upload_id, samples) VALUES (?, ?)", uploadID, samples).Exec()
	return wrap(err, "put waveform %s", uploadID)
}

// Waveforms implements media.Store: one read per upload, in parallel.
func (s *Store) Waveforms(ctx context.Context, uploadIDs []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(uploadIDs))
	var mu sync.Mutex
	err := cql.Parallel(ctx, len(uploadIDs), func(ctx context.Context, i int) error {
		var w []byte
		err := s.query(ctx, "SELECT samples FROM media_waveforms WHERE upload_id = ?", uploadIDs[i]).Scan(&w)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return wrap(err, "read waveform %s", uploadIDs[i])
		}
		mu.Lock()
		out[uploadIDs[i]] = w
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
