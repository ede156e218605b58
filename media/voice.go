package media

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"messenger/sniff"
)

// Limits of voice notes and of videos sent in messages.
const (
	// MaxVoiceBytes caps a voice note: 5 MiB.
	MaxVoiceBytes = 5 * 1024 * 1024
	// MaxVoiceDuration caps a voice note's length, as its container says
	// (see package media/audio: never as the client says).
	MaxVoiceDuration = 5 * time.Minute
	// MaxMessageVideoDuration caps a video attached to a message.
	MaxMessageVideoDuration = 3 * time.Minute
	// DefaultMessageVideoBytes is Config.MessageVideoBytes's default: 32 MiB.
	DefaultMessageVideoBytes = 32 * 1024 * 1024
)

// messageVideoBytes is the configured cap of a video attached to a message.
func (s *Service) messageVideoBytes() int64 {
	if s.cfg.MessageVideoBytes > 0 {
		return s.cfg.MessageVideoBytes
	}
	return DefaultMessageVideoBytes
}

// uploadLimit is the size limit of an upload of kind k before anyone
// knows what it will be used for: a video may go to a story or a
// message, so it gets the larger of their limits.
func (s *Service) uploadLimit(k Kind) int64 {
	switch k {
	case Voice:
		return MaxVoiceBytes
	case Video:
		return max(MaxVideoBytes, s.messageVideoBytes())
	}
	return limitFor(k)
}

// checkContent applies the rules of what the bytes turned out to be to a
// file of n bytes named name: its kind's size limit, and for a voice note
// the length limit and a name that does not claim another format (an MP3
// named .ogg is refused; a name without an extension is fine). Other
// kinds keep their name with the detected type's extension (servedName).
func (s *Service) checkContent(field, name string, c sniff.Content, n int64) error {
	if limit := s.uploadLimit(c.Kind); n > limit {
		return badInput(field, fmt.Sprintf("the file is larger than %d bytes (%d MiB)", limit, limit>>20))
	}
	if c.Kind != Voice {
		return nil
	}
	if c.Duration > MaxVoiceDuration {
		return badInput(field, fmt.Sprintf("the voice note is %.1f s long; voice notes are at most %d minutes", c.Duration.Seconds(), int(MaxVoiceDuration/time.Minute)))
	}
	if ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), "."); ext != "" && !slices.Contains(sniff.Extensions(c.ContentType), ext) {
		return badInput(field, fmt.Sprintf("the file is named .%s but its bytes are %s", ext, c.ContentType))
	}
	return nil
}

// declaredAs refuses a presigned voice note whose declared audio type
// and name disagree (audio/mpeg named note.ogg); the bytes are checked
// against the name when the upload is confirmed (checkContent), so the
// three must agree. Other declared types only pick the size limit.
func declaredAs(name, declaredType string) error {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(declaredType)), ";")
	exts := sniff.Extensions(ct)
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	if !strings.HasPrefix(ct, "audio/") || len(exts) == 0 || ext == "" || slices.Contains(exts, ext) {
		return nil
	}
	return badInput("contentType", fmt.Sprintf("the file is named .%s but declared as %s", ext, ct))
}

// checkAttachable applies the message rules of voice notes and videos to
// the uploads about to be attached to one message: at most one voice
// note, and videos no longer than MaxMessageVideoDuration nor larger than
// Config.MessageVideoBytes.
func (s *Service) checkAttachable(ids []string, us map[string]Upload) error {
	voices := 0
	for _, id := range ids {
		u := us[id]
		switch u.Kind {
		case Voice:
			if voices++; voices > 1 {
				return badInput("attachmentIds", "a message carries at most one voice note")
			}
		case Video:
			if u.Duration > MaxMessageVideoDuration {
				return badInput("attachmentIds", fmt.Sprintf("the video is %.1f s long; videos in messages are at most %d minutes", u.Duration.Seconds(), int(MaxMessageVideoDuration/time.Minute)))
			}
			if limit := s.messageVideoBytes(); u.Size > limit {
				return badInput("attachmentIds", fmt.Sprintf("the video is larger than %d bytes (%d MiB), the limit of videos in messages", limit, limit>>20))
			}
		}
	}
	return nil
}

// keepWaveform records the waveform of a voice note before its upload
// is recorded as ready, so a ready voice note always has one.
func (s *Service) keepWaveform(ctx context.Context, uploadID string, c sniff.Content) error {
	if c.Kind != Voice || len(c.Waveform) == 0 {
		return nil
	}
	if err := s.cfg.Store.PutWaveform(ctx, uploadID, c.Waveform); err != nil {
		return fmt.Errorf("media: record waveform of %s: %w", uploadID, err)
	}
	return nil
}

// addWaveforms fills in the waveforms of the voice notes among attachments,
// in one store call whatever their number (none without voice notes).
func (s *Service) addWaveforms(ctx context.Context, byMsg map[string][]Attachment) error {
	var ids []string
	for _, as := range byMsg {
		for _, a := range as {
			if a.Kind == Voice {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ws, err := s.cfg.Store.Waveforms(ctx, ids)
	if err != nil {
		return fmt.Errorf("media: load waveforms: %w", err)
	}
	for _, as := range byMsg {
		for i := range as {
			if w, ok := ws[as[i].ID]; ok {
				as[i].Waveform = make([]int, len(w))
				for j, v := range w {
					as[i].Waveform[j] = int(v)
				}
			}
		}
	}
	return nil
}

// DurationMs is a voice note's or video's duration in milliseconds, read
// from its container; nil for other files.
func (a *Attachment) DurationMs() *int {
	if ms := int(a.Duration.Milliseconds()); ms > 0 {
		return &ms
	}
	return nil
}
