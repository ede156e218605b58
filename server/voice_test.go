package server_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/sniff/snifftest"
)

const sendVoice = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id attachments { contentType durationMs waveform width height } } }`

type sentMedia struct {
	SendMessage struct {
		ID          string
		Attachments []struct {
			ContentType   string
			DurationMs    *int
			Waveform      []int
			Width, Height *int
		}
	}
}

func messageCount(t *testing.T, c *apitest.Client, conv string) int {
	t.Helper()
	var hist struct {
		Messages struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	c.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node { id } } } }`, map[string]any{"c": conv}, &hist)
	return len(hist.Messages.Edges)
}

func TestVoiceNotesAreSentWithTheirRealDurationAndAWaveform(t *testing.T) {
	for _, s3 := range []bool{false, true} {
		name := map[bool]string{false: "folder", true: "minio"}[s3]
		t.Run(name, func(t *testing.T) {
			api := newMediaAPI(t, s3)
			a, b := apitest.SignUp(t, api.url, "va"), apitest.SignUp(t, api.url, "vb")
			conv := conversation(t, a, b)
			for _, tc := range []struct {
				file, ct string
				data     []byte
				ms       int
			}{
				{"note.ogg", "audio/ogg", snifftest.OggOpus(3 * time.Second), 3000},
				{"note.m4a", "audio/mp4", snifftest.M4A(3 * time.Second), 3000},
				{"note.mp3", "audio/mpeg", snifftest.MP3(3 * time.Second), 2988},
				{"recording", "audio/ogg", snifftest.OggOpus(1200 * time.Millisecond), 1200},
			} {
				up := mustUpload(t, a, tc.file, tc.data)
				if up.Kind != "VOICE" || up.ContentType != tc.ct || up.DurationMs == nil || *up.DurationMs != tc.ms {
					t.Fatalf("%s: upload = %+v", tc.file, up)
				}
				var sent sentMedia
				a.Must(t, sendVoice, sendFiles(conv, up.ID), &sent)
				at := sent.SendMessage.Attachments
				if len(at) != 1 || at[0].ContentType != tc.ct || at[0].DurationMs == nil || *at[0].DurationMs != tc.ms || len(at[0].Waveform) != 64 {
					t.Fatalf("%s: attachment = %+v", tc.file, at)
				}
				top := 0
				for _, v := range at[0].Waveform {
					if v < 0 || v > 255 {
						t.Fatalf("%s: waveform sample %d", tc.file, v)
					}
					top = max(top, v)
				}
				if top != 255 {
					t.Fatalf("%s: waveform %v not scaled", tc.file, at[0].Waveform)
				}
			}
			// The recipient sees the same duration and waveform.
			var got struct {
				Messages struct {
					Edges []struct {
						Node struct {
							Attachments []struct {
								DurationMs *int
								Waveform   []int
							}
						}
					}
				}
			}
			b.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 10) { edges { node { attachments { durationMs waveform } } } } }`, map[string]any{"c": conv}, &got)
			if n := len(got.Messages.Edges); n != 4 || len(got.Messages.Edges[0].Node.Attachments[0].Waveform) != 64 {
				t.Fatalf("recipient sees %+v", got)
			}
		})
	}
}

func TestSecondVoiceNoteInOneMessageIsRefused(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "v2a"), apitest.SignUp(t, api.url, "v2b")
	conv := conversation(t, a, b)
	one := mustUpload(t, a, "one.ogg", snifftest.OggOpus(time.Second)).ID
	two := mustUpload(t, a, "two.mp3", snifftest.MP3(time.Second)).ID
	photo := mustUpload(t, a, "p.png", snifftestPNG()).ID
	e := a.Refused(t, "BAD_USER_INPUT", sendVoice, sendFiles(conv, one, photo, two))
	if !strings.Contains(e.Message, "at most one voice note") || e.Extensions["field"] != "attachmentIds" {
		t.Fatalf("error = %+v", e)
	}
	if n := messageCount(t, a, conv); n != 0 {
		t.Fatalf("a refused send left %d messages", n)
	}
	// Each is still usable on its own: the refusal claimed nothing.
	a.Must(t, sendVoice, sendFiles(conv, one, photo), nil)
	a.Must(t, sendVoice, sendFiles(conv, two), nil)
}

func snifftestPNG() []byte { return snifftest.PNG(2, 2) }

// freeBox is an MP4 "free" box of n bytes in all: padding a movie keeps valid.
func freeBox(n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(n))
	copy(b[4:], "free")
	return b
}

func TestVoiceNoteLiesAreRefused(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "vl")
	refusedUpload(t, api, a, "note.ogg", snifftest.MP3(time.Second), "named .ogg but its bytes are audio/mpeg")
	refusedUpload(t, api, a, "note.m4a", snifftest.OggOpus(time.Second), "named .m4a but its bytes are audio/ogg")
	refusedUpload(t, api, a, "note.ogg", snifftest.OggOpusClaiming(6*time.Minute, 4*time.Minute), "voice notes are at most 5 minutes")
	refusedUpload(t, api, a, "long.m4a", snifftest.M4AClaiming(6*time.Minute, 4*time.Minute), "voice notes are at most 5 minutes")
	refusedUpload(t, api, a, "big.m4a", append(snifftest.M4A(time.Second), freeBox(5<<20)...), "larger than 5242880 bytes")
	refusedUpload(t, api, a, "cut.ogg", func() []byte { b := snifftest.OggOpus(time.Second); return b[:len(b)-10] }(), "truncated")
	refusedUpload(t, api, a, "opus.mp4", snifftest.MovieWithAudio("Opus", time.Second), "not AAC")
}

func TestPresignedVoiceNoteNamedAsAnotherFormatIsRefusedAtConfirmation(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "vp")
	data := snifftest.MP3(time.Second)
	id, form := presign(t, a, "note.ogg", len(data))
	mustPost(t, form, data)
	e := a.Refused(t, "BAD_USER_INPUT", `mutation($id: ID!) { confirmUpload(id: $id) { id } }`, map[string]any{"id": id})
	if !strings.Contains(e.Message, "named .ogg") {
		t.Fatal(e.Message)
	}
	// Declared as one format, named as another: refused before any upload.
	e = a.Refused(t, "BAD_USER_INPUT", `mutation($i: CreateUploadInput!) { createUpload(input: $i) { url } }`,
		map[string]any{"i": map[string]any{"filename": "note.ogg", "contentType": "audio/mpeg", "size": 1000}})
	if e.Extensions["field"] != "contentType" || !strings.Contains(e.Message, "declared as audio/mpeg") {
		t.Fatalf("error = %+v", e)
	}
	good := snifftest.M4A(2 * time.Second)
	id, form = presign(t, a, "note.m4a", len(good))
	mustPost(t, form, good)
	if up := confirm(t, a, id); up.Kind != "VOICE" || up.ContentType != "audio/mp4" {
		t.Fatalf("%+v", up)
	}
}

func TestVideosInMessagesShowSizeAndDurationUpToThreeMinutes(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "vv"), apitest.SignUp(t, api.url, "vw")
	conv := conversation(t, a, b)
	clip := mustUpload(t, a, "clip.mp4", snifftest.VideoMP4(90*time.Second, 1280, 720))
	if clip.Kind != "VIDEO" || *clip.Width != 1280 || *clip.Height != 720 || *clip.DurationMs != 90000 {
		t.Fatalf("upload = %+v", clip)
	}
	var sent sentMedia
	a.Must(t, sendVoice, sendFiles(conv, clip.ID), &sent)
	at := sent.SendMessage.Attachments
	if len(at) != 1 || at[0].ContentType != "video/mp4" || *at[0].Width != 1280 || *at[0].Height != 720 || *at[0].DurationMs != 90000 || at[0].Waveform != nil {
		t.Fatalf("attachment = %+v", at)
	}
	long := mustUpload(t, a, "long.mp4", snifftest.VideoMP4(181*time.Second, 640, 360))
	e := a.Refused(t, "BAD_USER_INPUT", sendVoice, sendFiles(conv, long.ID))
	if !strings.Contains(e.Message, "at most 3 minutes") {
		t.Fatal(e.Message)
	}
	if n := messageCount(t, a, conv); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	// A voice note is not a story.
	note := mustUpload(t, a, "n.ogg", snifftest.OggOpus(time.Second))
	a.Refused(t, "BAD_USER_INPUT", `mutation($u: ID!) { postStory(uploadId: $u) { id } }`, map[string]any{"u": note.ID})
}
