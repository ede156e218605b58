package sniff_test

import (
	"archive/zip"
	"bytes"
)

func zipWith(names ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, n := range names {
		f, _ := w.Create(n)
		_, _ = f.Write([]byte("hello"))
	}
	_ = w.Close()
	return b.Bytes()
}
