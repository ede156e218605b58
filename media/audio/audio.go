// Package audio reads voice-note containers without a codec: Ogg/Opus,
// MP3 and the tracks of an MP4 (M4A) movie. From the container alone it
// learns what the stream is, how long it really plays (counted from the
// packets or frames themselves, so a header claiming less is caught) and
// an outline of its loudness for a waveform. Its functions are pure and
// bounded by the bytes they are given: any input, however damaged, gives
// an error, never a panic.
package audio

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalid wraps every reason a stream is not what it should be; the
// message says why, in words a user can act on.
var ErrInvalid = errors.New("audio: invalid stream")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

// Info is what a parser learnt from a stream.
type Info struct {
	// ContentType is the stream's media type (audio/ogg, audio/mpeg).
	ContentType string
	// Duration is how long the stream plays: the longer of what its
	// headers say and what its packets or frames add up to.
	Duration time.Duration
	// Waveform is WaveformLen loudness samples (0-255) over the whole
	// stream; see Outline for what they measure.
	Waveform []byte
}

// maxDuration bounds any duration a parser reports: a stream claiming
// more is damaged (it also keeps time.Duration arithmetic far from overflow).
const maxDuration = 24 * time.Hour

// samplesToDuration converts n samples at rate per second.
func samplesToDuration(n, rate int64) time.Duration {
	if n <= 0 || rate <= 0 {
		return 0
	}
	secs := n / rate
	if secs > int64(maxDuration/time.Second) {
		return maxDuration + time.Second
	}
	return time.Duration(secs)*time.Second + time.Duration(n%rate)*time.Second/time.Duration(rate)
}
