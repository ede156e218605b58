package linkpreview

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Lengths a preview keeps, in characters.
const (
	maxTitle       = 300
	maxDescription = 1000
	maxSiteName    = 100
)

// Head is what a page's head says about it. Image is the address the page
// gives, unresolved (possibly relative).
type Head struct {
	Title, Description, SiteName, Image string
}

// ParseHead reads r up to the end of the document's head (</head>, or the
// first tag that belongs in the body) and picks the preview's fields:
// OpenGraph first (og:title, og:description, og:site_name, og:image), then
// Twitter cards (twitter:title, ...), then <title> and <meta
// name="description">. Text is cleaned: valid UTF-8, no control
// characters, white space collapsed, cut to a bounded length. It never
// fails: a broken or truncated page gives what could be read.
func ParseHead(r io.Reader) Head {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(256 << 10) // one token may not hold more
	var og, tw, plain Head
	inTitle := false
	var title strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return pick(og, tw, plain, title.String())
		case html.TextToken:
			if inTitle && title.Len() < 4*maxTitle {
				title.Write(z.Text())
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Head:
				return pick(og, tw, plain, title.String())
			case atom.Title:
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch a := atom.Lookup(name); a {
			case atom.Title:
				inTitle = true
			case atom.Meta:
				if hasAttr {
					meta(z, &og, &tw, &plain)
				}
			case atom.Html, atom.Head, atom.Link, atom.Script, atom.Style, atom.Base, atom.Noscript, atom.Template:
			default:
				// A tag of the body: the head is over.
				return pick(og, tw, plain, title.String())
			}
		}
	}
}

// meta reads one <meta> tag's property/name and content.
func meta(z *html.Tokenizer, og, tw, plain *Head) {
	var key, content string
	for {
		k, v, more := z.TagAttr()
		switch strings.ToLower(string(k)) {
		case "property", "name":
			if key == "" {
				key = strings.ToLower(strings.TrimSpace(string(v)))
			}
		case "content":
			content = string(v)
		}
		if !more {
			break
		}
	}
	set := func(dst *string) {
		if *dst == "" {
			*dst = content
		}
	}
	switch key {
	case "og:title":
		set(&og.Title)
	case "og:description":
		set(&og.Description)
	case "og:site_name":
		set(&og.SiteName)
	case "og:image", "og:image:url", "og:image:secure_url":
		set(&og.Image)
	case "twitter:title":
		set(&tw.Title)
	case "twitter:description":
		set(&tw.Description)
	case "twitter:image", "twitter:image:src":
		set(&tw.Image)
	case "description":
		set(&plain.Description)
	case "application-name":
		set(&plain.SiteName)
	}
}

func pick(og, tw, plain Head, title string) Head {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	return Head{
		Title:       clean(first(og.Title, tw.Title, title), maxTitle),
		Description: clean(first(og.Description, tw.Description, plain.Description), maxDescription),
		SiteName:    clean(first(og.SiteName, plain.SiteName), maxSiteName),
		Image:       clean(first(og.Image, tw.Image), 2048),
	}
}

// clean makes s valid UTF-8 without control characters, collapses white
// space and cuts it to at most n characters (an ellipsis marks a cut).
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	count := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			continue
		}
		if space {
			b.WriteByte(' ')
			count++
			space = false
		}
		if count >= n {
			return strings.TrimSpace(b.String()) + "…"
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}
