package server_test

import (
	"bytes"
	"testing"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// A forwarded message shares its files (no bytes are copied: the blob
// count stays), and recalling the original keeps the copy's files.
func TestForwardedFilesAreSharedAndOutliveTheOriginal(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b, c := apitest.SignUp(t, api.url, "fa"), apitest.SignUp(t, api.url, "fb"), apitest.SignUp(t, api.url, "fc")
	src := conversation(t, a, b)
	target := conversation(t, b, c)
	doc := mustUpload(t, a, "notes.docx", mediatest.DOCX())
	var sent struct{ SendMessage struct{ ID string } }
	a.Must(t, sendWithFiles, sendFiles(src, doc.ID), &sent)
	blobs := api.blobCount(t)

	var out struct{ ForwardMessage []struct{ ID string } }
	b.Must(t, `mutation($m: ID!, $to: [ID!]!) { forwardMessage(messageId: $m, toConversationIds: $to, clientMessageId: "f1") { id } }`,
		map[string]any{"m": sent.SendMessage.ID, "to": []string{target}}, &out)
	copyID := out.ForwardMessage[0].ID
	if got := download(t, attachmentURL(t, c, copyID)); !bytes.Equal(got, mediatest.DOCX()) {
		t.Fatal("the copy's file is not the original's bytes")
	}
	if n := api.blobCount(t); n != blobs {
		t.Fatalf("forwarding stored %d blobs, had %d: the bytes were copied", n, blobs)
	}
	a.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": sent.SendMessage.ID}, nil)
	if got := download(t, attachmentURL(t, c, copyID)); !bytes.Equal(got, mediatest.DOCX()) {
		t.Fatal("recalling the original broke the copy's file")
	}
}
