package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"testing"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// photoWithGPS is a 1200x800 JPEG carrying an EXIF segment with a marker
// string standing in for GPS coordinates.
func photoWithGPS(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1200, 800))
	for y := 0; y < 800; y++ {
		for x := 0; x < 1200; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00"), []byte("GPSLatitude=52.3702N;SECRET-PLACE")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	raw := buf.Bytes()
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

type avatarView struct {
	URL           string
	Width, Height int
	Thumbnails    []struct {
		URL           string
		Width, Height int
	}
}

func TestAvatarIsReencodedWithoutMetadataAndHasThumbnails(t *testing.T) {
	api := newMediaAPI(t, false)
	me, other := apitest.SignUp(t, api.url, "me"), apitest.SignUp(t, api.url, "other")
	photo := photoWithGPS(t)
	if !bytes.Contains(photo, []byte("SECRET-PLACE")) {
		t.Fatal("test photo lacks its metadata")
	}
	up := mustUpload(t, me, "me.jpg", photo)

	var out struct{ UpdateProfile struct{ Avatar avatarView } }
	me.Must(t, `mutation($a: ID!) { updateProfile(input: {avatarUploadId: $a}) { avatar { url width height thumbnails { url width height } } } }`,
		map[string]any{"a": up.ID}, &out)
	a := out.UpdateProfile.Avatar
	if a.Width != 1024 || a.Height != 682 || len(a.Thumbnails) != 2 ||
		a.Thumbnails[0].Width != 256 || a.Thumbnails[0].Height != 170 || a.Thumbnails[1].Width != 64 {
		t.Fatalf("avatar = %+v", a)
	}
	for _, u := range []string{a.URL, a.Thumbnails[0].URL, a.Thumbnails[1].URL} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Contains(body, []byte("SECRET-PLACE")) || bytes.Contains(body, []byte("Exif")) {
			t.Fatalf("GET %s: status %d, metadata kept: %v", u, resp.StatusCode, bytes.Contains(body, []byte("SECRET")))
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil {
			t.Fatalf("served avatar is not a JPEG: %v", err)
		}
	}
	// Others see it on my profile.
	var seen struct{ User struct{ Avatar *avatarView } }
	other.Must(t, `query($u: ID!) { user(id: $u) { avatar { width } } }`, map[string]any{"u": me.UserID}, &seen)
	if seen.User.Avatar == nil || seen.User.Avatar.Width != 1024 {
		t.Fatalf("other sees avatar %+v", seen.User.Avatar)
	}

	// A group avatar, by the owner; a member may not set one.
	g := createGroup(t, me, "team", other)
	groupPic := mustUpload(t, me, "g.png", mediatest.PNG(40, 20))
	var gout struct{ UpdateConversation struct{ Avatar avatarView } }
	me.Must(t, `mutation($c: ID!, $a: ID!) { updateConversation(conversationId: $c, input: {avatarUploadId: $a}) { avatar { url width height thumbnails { width } } } }`,
		map[string]any{"c": g, "a": groupPic.ID}, &gout)
	if gout.UpdateConversation.Avatar.Width != 40 || gout.UpdateConversation.Avatar.Height != 20 {
		t.Fatalf("group avatar = %+v (small images are not enlarged)", gout.UpdateConversation.Avatar)
	}
	theirs := mustUpload(t, other, "o.png", mediatest.PNG(8, 8))
	other.Refused(t, "FORBIDDEN", `mutation($c: ID!, $a: ID!) { updateConversation(conversationId: $c, input: {avatarUploadId: $a}) { id } }`,
		map[string]any{"c": g, "a": theirs.ID})

	// Someone else's upload is not mine to use; a document is no avatar.
	me.Refused(t, "NOT_FOUND", `mutation($a: ID!) { updateProfile(input: {avatarUploadId: $a}) { id } }`, map[string]any{"a": theirs.ID})
	doc := mustUpload(t, me, "a.pdf", mediatest.PDF())
	me.Refused(t, "BAD_USER_INPUT", `mutation($a: ID!) { updateProfile(input: {avatarUploadId: $a}) { id } }`, map[string]any{"a": doc.ID})
	var still struct{ Me struct{ Avatar avatarView } }
	me.Must(t, `{ me { avatar { width } } }`, nil, &still)
	if still.Me.Avatar.Width != 1024 {
		t.Fatalf("a refused avatar changed mine: %+v", still.Me.Avatar)
	}
	// An empty id removes it.
	me.Must(t, `mutation { updateProfile(input: {avatarUploadId: ""}) { id } }`, nil, nil)
	var gone struct{ Me struct{ Avatar *avatarView } }
	me.Must(t, `{ me { avatar { width } } }`, nil, &gone)
	if gone.Me.Avatar != nil {
		t.Fatalf("avatar after removal = %+v", gone.Me.Avatar)
	}
}
