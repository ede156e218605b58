package media

import (
	"image"
	"math"
	"strings"
)

// BlurHash components: 4 across, 3 down, the reference encoder's default
// and the size clients expect (28 characters).
const (
	blurhashX = 4
	blurhashY = 3
)

const base83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"

// Blurhash encodes img as a BlurHash (https://blurha.sh): a short string a
// client decodes into a blurred placeholder before any download. It is
// the reference algorithm (woltapp/blurhash, encode.ts) with compX × compY
// components (1..9 each). img should be small (a thumbnail): the cost is
// pixels × components.
func Blurhash(img image.Image, compX, compY int) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 || compX < 1 || compX > 9 || compY < 1 || compY > 9 {
		return ""
	}
	// Linear RGB of every pixel, once.
	lin := make([][3]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lin[y*w+x] = [3]float64{srgbToLinear(int(r >> 8)), srgbToLinear(int(g >> 8)), srgbToLinear(int(bl >> 8))}
		}
	}
	factors := make([][3]float64, 0, compX*compY)
	for j := 0; j < compY; j++ {
		for i := 0; i < compX; i++ {
			norm := 2.0
			if i == 0 && j == 0 {
				norm = 1
			}
			var f [3]float64
			for y := 0; y < h; y++ {
				cy := math.Cos(math.Pi * float64(j) * float64(y) / float64(h))
				for x := 0; x < w; x++ {
					basis := norm * math.Cos(math.Pi*float64(i)*float64(x)/float64(w)) * cy
					p := lin[y*w+x]
					f[0] += basis * p[0]
					f[1] += basis * p[1]
					f[2] += basis * p[2]
				}
			}
			scale := 1 / float64(w*h)
			factors = append(factors, [3]float64{f[0] * scale, f[1] * scale, f[2] * scale})
		}
	}
	var sb strings.Builder
	sb.WriteString(encode83((compX-1)+(compY-1)*9, 1))
	maxValue := 1.0
	if len(factors) > 1 {
		actualMax := 0.0
		for _, f := range factors[1:] {
			actualMax = max(actualMax, math.Abs(f[0]), math.Abs(f[1]), math.Abs(f[2]))
		}
		q := int(math.Max(0, math.Min(82, math.Floor(actualMax*166-0.5))))
		maxValue = float64(q+1) / 166
		sb.WriteString(encode83(q, 1))
	} else {
		sb.WriteString(encode83(0, 1))
	}
	dc := factors[0]
	sb.WriteString(encode83(linearToSRGB(dc[0])<<16+linearToSRGB(dc[1])<<8+linearToSRGB(dc[2]), 4))
	for _, f := range factors[1:] {
		q := func(v float64) int {
			return int(math.Max(0, math.Min(18, math.Floor(signPow(v/maxValue, 0.5)*9+9.5))))
		}
		sb.WriteString(encode83(q(f[0])*19*19+q(f[1])*19+q(f[2]), 2))
	}
	return sb.String()
}

// BlurhashAverage decodes the average colour (the DC component) of a
// BlurHash; ok is false for a malformed hash.
func BlurhashAverage(hash string) (r, g, b uint8, ok bool) {
	if len(hash) < 6 {
		return 0, 0, 0, false
	}
	v := 0
	for _, c := range hash[2:6] {
		d := strings.IndexRune(base83, c)
		if d < 0 {
			return 0, 0, 0, false
		}
		v = v*83 + d
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v), true
}

func encode83(n, length int) string {
	out := make([]byte, length)
	for i := length - 1; i >= 0; i-- {
		out[i] = base83[n%83]
		n /= 83
	}
	return string(out)
}

func srgbToLinear(v int) float64 {
	f := float64(v) / 255
	if f <= 0.04045 {
		return f / 12.92
	}
	return math.Pow((f+0.055)/1.055, 2.4)
}

func linearToSRGB(v float64) int {
	v = math.Max(0, math.Min(1, v))
	if v <= 0.0031308 {
		return int(v*12.92*255 + 0.5)
	}
	return int((1.055*math.Pow(v, 1/2.4)-0.055)*255 + 0.5)
}

func signPow(v, exp float64) float64 {
	return math.Copysign(math.Pow(math.Abs(v), exp), v)
}
