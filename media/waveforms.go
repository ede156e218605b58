package media

import "context"

// Waveforms keeps the waveform of each voice note beside its upload
// record (a part of its own so that the uploads' records, and the
// Cassandra table holding them, stay as they are).
type Waveforms interface {
	// PutWaveform records an upload's waveform (bytes 0-255), replacing
	// any it had. It does not need the upload to exist yet.
	PutWaveform(ctx context.Context, uploadID string, samples []byte) error
	// Waveforms returns the waveforms of these uploads; uploads without
	// one (or unknown) are absent. One call serves a whole page. A
	// removed upload's (DeleteUpload) is gone.
	Waveforms(ctx context.Context, uploadIDs []string) (map[string][]byte, error)
}
