package server_test

import (
	"context"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// Deleting an account takes down what its files were: the story it had up
// and the files attached to its messages, bytes included (on disk and on
// MinIO), and the job is safe to run again.
func TestDeleteAccountLeavesNoneOfTheUsersFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		s3   bool
	}{{"folder", false}, {"minio", true}} {
		t.Run(tc.name, func(t *testing.T) {
			api := newMediaAPI(t, tc.s3)
			alice, bob := apitest.SignUp(t, api.url, "alice"), apitest.SignUp(t, api.url, "bob")
			conv := conversation(t, alice, bob)
			photo := mustUpload(t, alice, "photo.png", mediatest.PNG(4, 4))
			alice.Must(t, sendWithFiles, sendFiles(conv, photo.ID), nil)
			video := mustUpload(t, alice, "clip.mp4", mediatest.MP4(8*time.Second, 256, false))
			var posted struct{ PostStory struct{ ID string } }
			alice.Must(t, `mutation($u: ID!) { postStory(uploadId: $u) { id } }`, map[string]any{"u": video.ID}, &posted)
			bobs := mustUpload(t, bob, "bob.png", mediatest.PNG(3, 3))
			bob.Must(t, sendWithFiles, sendFiles(conv, bobs.ID), nil)
			if story(t, bob, posted.PostStory.ID) == nil {
				t.Fatal("bob, a contact, does not see alice's story")
			}
			if n := api.count(t); n != 3 {
				t.Fatalf("%d stored files before the deletion, want 3", n)
			}

			alice.Must(t, `mutation($p: String!) { deleteAccount(password: $p) { deletedAt } }`,
				map[string]any{"p": "password-" + alice.Username}, nil)
			for range 2 { // a resumed or repeated job finds nothing more to do
				if _, err := api.life.Jobs().RunPending(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := api.count(t); n != 1 {
				t.Fatalf("%d stored files after the deletion, want only bob's", n)
			}
			if story(t, bob, posted.PostStory.ID) != nil {
				t.Fatal("bob still sees the deleted account's story")
			}
		})
	}
}

// story is the story as c sees it (nil: none visible).
func story(t *testing.T, c *apitest.Client, id string) *struct{ ID string } {
	t.Helper()
	var out struct{ Story *struct{ ID string } }
	c.Must(t, `query($s: ID!) { story(id: $s) { id } }`, map[string]any{"s": id}, &out)
	return out.Story
}
