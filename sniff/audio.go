package sniff

import (
	"errors"
	"io"
	"strings"
	"time"

	"messenger/media/audio"
)

// Voice is a voice note: Ogg/Opus, M4A (AAC) or MP3, with its duration
// read from the container and a waveform (see package media/audio).
const Voice Kind = "VOICE"

// maxMoovBytes bounds the movie header read into memory for its tracks
// (a 3-minute video's is well under 1 MiB).
const maxMoovBytes = 16 << 20

// fromAudio turns a media/audio refusal into ErrRefused.
func fromAudio(err error) error {
	if errors.Is(err, audio.ErrInvalid) {
		return refused("%s", strings.TrimPrefix(err.Error(), audio.ErrInvalid.Error()+": "))
	}
	return err
}

func inspectOgg(r io.ReaderAt, size int64) (Content, error) {
	info, err := audio.ParseOgg(r, size)
	if err != nil {
		return Content{}, fromAudio(err)
	}
	return Content{Kind: Voice, ContentType: info.ContentType, Ext: "ogg", Duration: info.Duration, Waveform: info.Waveform}, nil
}

func inspectMP3(r io.ReaderAt, size int64) (Content, error) {
	info, err := audio.ParseMP3(r, size)
	if err != nil {
		return Content{}, fromAudio(err)
	}
	return Content{Kind: Voice, ContentType: info.ContentType, Ext: "mp3", Duration: info.Duration, Waveform: info.Waveform}, nil
}

// readMoov reads a moov box's payload, or nil when it is too large to
// look into (the movie then stays a video without dimensions).
func readMoov(r io.ReaderAt, off, n int64) []byte {
	if n > maxMoovBytes {
		return nil
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil
	}
	return b
}

// classifyMovie completes what inspectMP4 learnt with the movie's tracks.
// A movie with a video track is a video, with that track's width and
// height; one with audio tracks only is a voice note (audio/mp4, .m4a),
// whose tracks must all be AAC (mp4a). Either way the duration is the
// longest of the movie header's and each track's (media header or sample
// table), so a movie header claiming less than the samples play does not
// shorten it. A movie without tracks keeps what the movie header says.
func classifyMovie(c Content, moov []byte) (Content, error) {
	if moov == nil {
		return c, nil
	}
	tracks, err := audio.ParseMovie(moov)
	if err != nil {
		return c, fromAudio(err)
	}
	var video, sound bool
	var wave []byte
	for _, t := range tracks {
		switch t.Handler {
		case "vide":
			if !video {
				c.Width, c.Height = t.Width, t.Height
			}
			video = true
		case "soun":
			if wave == nil {
				wave = t.Waveform
			}
			sound = true
		}
		c.Duration = max(c.Duration, t.Duration)
	}
	if !video && sound {
		for _, t := range tracks {
			if t.Handler == "soun" && t.Codec != "mp4a" {
				return c, refused("the audio is %q, not AAC: voice notes in M4A must be AAC", t.Codec)
			}
		}
		if wave == nil {
			return c, refused("the audio track has no sample sizes (stsz): not a finished recording")
		}
		c.Kind, c.ContentType, c.Ext, c.Waveform = Voice, "audio/mp4", "m4a", wave
	}
	if c.Duration > 24*time.Hour {
		return c, refused("the file's duration is implausible")
	}
	return c, nil
}
