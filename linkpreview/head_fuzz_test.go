package linkpreview

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHeadPrefersOpenGraphThenTwitterThenPlain(t *testing.T) {
	h := ParseHead(strings.NewReader(`<head><title> Plain
	title </title><meta name="twitter:title" content="Tw"><meta name="description" content="Desc">
	<meta name="twitter:image" content="https://img.example/a.jpg"></head><body><meta property="og:title" content="too late">`))
	want := Head{Title: "Tw", Description: "Desc", Image: "https://img.example/a.jpg"}
	if h != want {
		t.Fatalf("ParseHead = %+v, want %+v", h, want)
	}
	if h := ParseHead(strings.NewReader(`<title>Only &lt;title&gt;</title><p>x</p>`)); h.Title != "Only <title>" {
		t.Fatalf("title = %q", h.Title)
	}
	if h := ParseHead(strings.NewReader(`<html><head><meta property="og:title" content="` + strings.Repeat("é", 5000))); utf8.RuneCountInString(h.Title) > maxTitle+1 {
		t.Fatalf("truncated head gave a title of %d characters", utf8.RuneCountInString(h.Title))
	}
}

func FuzzParseHead(f *testing.F) {
	for _, s := range []string{page, "", "<title>", "<meta property=og:title content='a\x00b'>", "<head><title>\xff\xfe</title>", "<svg><title>x</title></svg>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		h := ParseHead(strings.NewReader(doc))
		for _, v := range []string{h.Title, h.Description, h.SiteName, h.Image} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n\r\t") || v != strings.TrimSpace(v) {
				t.Fatalf("unclean field %q from %q", v, doc)
			}
		}
		if utf8.RuneCountInString(h.Title) > maxTitle+1 || utf8.RuneCountInString(h.Description) > maxDescription+1 {
			t.Fatalf("overlong fields from %q", doc)
		}
	})
}
