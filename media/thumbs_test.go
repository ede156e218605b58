package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

// The encoder gives the reference algorithm's output: these hashes come
// from the pure-Python port of woltapp/blurhash (PyPI blurhash 1.1.5) for
// the same pixels.
func TestBlurhashMatchesTheReferenceEncoder(t *testing.T) {
	grad := image.NewRGBA(image.Rect(0, 0, 6, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			grad.Set(x, y, color.RGBA{uint8(x * 40), uint8(y * 60), uint8((x + y) * 20), 255})
		}
	}
	flat := image.NewRGBA(image.Rect(0, 0, 5, 5))
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			flat.Set(x, y, color.RGBA{200, 30, 90, 255})
		}
	}
	for _, tc := range []struct {
		img        image.Image
		cx, cy     int
		want, name string
	}{
		{grad, 4, 3, "LXEL]03LN?-o*kI;Wqrud@e?fRe.", "gradient 4×3"},
		{flat, 4, 3, "LbM^#v|zfQ|z|zw|fQw|fQfQfQfQ", "flat 4×3"},
		{grad, 1, 1, "00EL]0", "gradient 1×1"},
	} {
		if got := Blurhash(tc.img, tc.cx, tc.cy); got != tc.want {
			t.Errorf("%s: Blurhash = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A hash's DC component decodes to the image's average colour.
func TestBlurhashDecodesToTheAverageColour(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{10, 120, 240, 255})
		}
	}
	r, g, b, ok := BlurhashAverage(Blurhash(img, 4, 3))
	if !ok || r != 10 || g != 120 || b != 240 {
		t.Fatalf("average = %d,%d,%d (%v), want 10,120,240", r, g, b, ok)
	}
	if _, _, _, ok := BlurhashAverage("x"); ok {
		t.Fatal("a malformed hash decoded")
	}
}

// twoTone is a w×h image, left half red, right half blue.
func twoTone(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// withOrientation inserts an EXIF segment (orientation o, and a camera
// make that must not survive) right after the JPEG's SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a\x00\x00\x00\x08")
	_ = binary.Write(&tiff, binary.BigEndian, uint16(2))
	_ = binary.Write(&tiff, binary.BigEndian, []uint16{0x010F, 2, 0, 4}) // Make, ASCII, count 4
	tiff.WriteString("Cam\x00")
	_ = binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3, 0, 1, o, 0})
	_ = binary.Write(&tiff, binary.BigEndian, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A photo taken with the phone turned (EXIF orientation 6: rotate 90°
// clockwise to view) gets upright thumbnails with no EXIF left.
func TestJPEGThumbnailsAreUprightWithoutEXIF(t *testing.T) {
	raw := withOrientation(encodeJPEG(t, twoTone(1000, 500)), 6)
	if jpegOrientation(raw) != 6 {
		t.Fatalf("orientation = %d, want 6", jpegOrientation(raw))
	}
	thumbs, hash, err := renderThumbnails(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{80, 160}, {160, 320}, {400, 800}}
	if len(thumbs) != len(want) {
		t.Fatalf("%d thumbnails, want %d", len(thumbs), len(want))
	}
	for i, th := range thumbs {
		if th.Width != want[i][0] || th.Height != want[i][1] {
			t.Errorf("thumbnail %d is %d×%d, want %d×%d", i, th.Width, th.Height, want[i][0], want[i][1])
		}
		if bytes.Contains(th.JPEG, []byte("Exif")) || bytes.Contains(th.JPEG, []byte("Cam\x00")) {
			t.Errorf("thumbnail %d kept EXIF", i)
		}
		img, err := jpeg.Decode(bytes.NewReader(th.JPEG))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if b.Dx() != th.Width || b.Dy() != th.Height {
			t.Errorf("thumbnail %d decodes as %v", i, b)
		}
		// The stored left half (red) is on top once turned.
		top, bottom := img.At(b.Dx()/2, b.Dy()/8), img.At(b.Dx()/2, b.Dy()*7/8)
		if r, _, bl, _ := top.RGBA(); r>>8 < 200 || bl>>8 > 60 {
			t.Errorf("thumbnail %d: top is %v, want red", i, top)
		}
		if r, _, bl, _ := bottom.RGBA(); r>>8 > 60 || bl>>8 < 200 {
			t.Errorf("thumbnail %d: bottom is %v, want blue", i, bottom)
		}
	}
	if len(hash) != 28 {
		t.Fatalf("blurhash %q: want 28 characters (4×3 components)", hash)
	}
}

// Every orientation lands the stored top-left corner where the viewer's
// top-left is.
func TestEveryEXIFOrientationIsApplied(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.Pix[0] = 255 // the stored top-left pixel is the only red one
	// Where the stored top-left pixel must end up, per orientation.
	want := map[int]image.Point{1: {0, 0}, 2: {2, 0}, 3: {2, 1}, 4: {0, 1}, 5: {0, 0}, 6: {1, 0}, 7: {1, 2}, 8: {0, 2}}
	for o, p := range want {
		out := orient(src, o)
		if o >= 5 && (out.Bounds().Dx() != 2 || out.Bounds().Dy() != 3) {
			t.Errorf("orientation %d: %v, want 2×3", o, out.Bounds())
		}
		if out.Pix[out.PixOffset(p.X, p.Y)] != 255 {
			t.Errorf("orientation %d: the top-left pixel is not at %v", o, p)
		}
	}
}

// A PNG with transparency is flattened on white; a small PNG is never
// enlarged and gets one thumbnail per distinct size.
func TestPNGThumbnailsAreFlattenedAndNeverEnlarged(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 100)) // fully transparent
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	thumbs, hash, err := renderThumbnails(context.Background(), buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(thumbs) != 2 || thumbs[0].Width != 160 || thumbs[0].Height != 80 || thumbs[1].Width != 200 || thumbs[1].Height != 100 {
		t.Fatalf("thumbnails %+v, want 160×80 and 200×100", dims(thumbs))
	}
	if r, g, b, _ := BlurhashAverage(hash); r < 250 || g < 250 || b < 250 {
		t.Fatalf("transparent PNG averages %d,%d,%d: want white", r, g, b)
	}
}

func dims(ts []renderedThumb) [][2]int {
	var out [][2]int
	for _, t := range ts {
		out = append(out, [2]int{t.Width, t.Height})
	}
	return out
}

// pngHeader is a PNG of a few dozen bytes whose header declares w × h
// RGBA pixels: pngHeader(20000, 20000) claims 1.6 GB.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// The bomb is refused from its header: the refusal allocates next to
// nothing (decoding would take 1.6 GB).
func TestPNGBombIsRefusedBeforeDecoding(t *testing.T) {
	bomb := pngHeader(20000, 20000)
	if _, _, err := renderThumbnails(context.Background(), bomb); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("bomb: %v, want ErrImageTooLarge", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := renderThumbnails(context.Background(), bomb)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrImageTooLarge) {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", n)
	}
	for _, c := range [][2]uint32{{12001, 10}, {10, 12001}, {7000, 7000}} {
		if _, _, err := checkImage(pngHeader(c[0], c[1])); !errors.Is(err, ErrImageTooLarge) {
			t.Errorf("%d×%d: %v, want ErrImageTooLarge", c[0], c[1], err)
		}
	}
	if _, _, err := renderThumbnails(context.Background(), []byte("not an image")); !errors.Is(err, ErrImageUnreadable) {
		t.Fatalf("garbage: %v, want ErrImageUnreadable", err)
	}
}

// With every decode slot taken, a decode waits (here: until its context
// ends) instead of running.
func TestDecodesWaitForASlot(t *testing.T) {
	var releases []func()
	for range cap(*decodeSlots.Load()) {
		r, err := acquireDecode(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	raw := encodeJPEG(t, twoTone(10, 10))
	if _, _, err := renderThumbnails(ctx, raw); !errors.Is(err, context.Canceled) {
		t.Fatalf("decode with no free slot: %v, want context.Canceled", err)
	}
	for _, r := range releases {
		r()
	}
	if _, _, err := renderThumbnails(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
}
