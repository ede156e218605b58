package sniff

import (
	"strings"
	"unicode/utf8"
)

// CSS inside an SVG (a <style> element's text, a style= attribute, a
// presentation attribute such as fill=) is checked after its escapes are
// decoded the way a browser's tokenizer decodes them, so `u\72l(` and
// `\40 import` are seen as url( and @import. The check is a deny list of
// everything that makes a browser fetch: it may refuse harmless text that
// merely looks like a fetch, never the reverse.

// cssFetchers are CSS functions that load a resource from a string or a
// URL; url( is allowed when it points at a #fragment of the document.
// Vendor-prefixed forms (-webkit-image-set() contain these names.
var cssFetchers = []string{"src(", "image(", "image-set(", "cross-fade(", "expression("}

// cssAtRules load other style sheets or fonts.
var cssAtRules = []string{"@import", "@font-face"}

// checkCSS refuses CSS that can reach outside the document.
func checkCSS(css string) error {
	if !strings.ContainsAny(css, `\(@`) {
		return nil // fast path: nothing that could become a fetch
	}
	s := strings.ToLower(cssUnescape(css))
	for _, at := range cssAtRules {
		if strings.Contains(s, at) {
			return refused("SVG with %s in styles is not accepted", at)
		}
	}
	for _, f := range cssFetchers {
		if strings.Contains(s, f) {
			return refused("SVG with %s) in styles is not accepted", f)
		}
	}
	for rest := s; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			break
		}
		rest = rest[i+len("url("):]
		if !localURL(rest) {
			return refused("SVG with external references in styles (url(...) not to a #fragment) is not accepted")
		}
	}
	if strings.Contains(strings.Join(strings.Fields(s), ""), "javascript:") {
		return refused("SVG with javascript: URLs is not accepted")
	}
	return nil
}

// localURL reports whether the argument of a url( at the start of arg is
// a #fragment of the document, or empty (url() and url("") fetch nothing).
func localURL(arg string) bool {
	const ws = " \t\r\n\f"
	arg = strings.TrimLeft(arg, ws)
	if arg == "" {
		return false
	}
	if q := arg[0]; q == '"' || q == '\'' {
		return arg[1:] != "" && (arg[1] == q || strings.HasPrefix(strings.TrimLeft(arg[1:], ws), "#"))
	}
	return strings.HasPrefix(arg, "#") || strings.HasPrefix(arg, ")")
}

// cssUnescape decodes CSS escapes as CSS Syntax Level 3 (§4.3.7) does: a
// backslash and 1-6 hex digits (and one optional whitespace after them)
// is that code point (U+FFFD for zero, surrogates and beyond U+10FFFF); a
// backslash and any other character is that character. A backslash before
// a newline or at the end is dropped. Comments are kept: they cannot split
// a function name or an at-keyword, and keeping them only adds text.
func cssUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		i++ // the backslash
		if i == len(s) {
			break
		}
		if s[i] == '\n' || s[i] == '\r' || s[i] == '\f' {
			i++
			continue
		}
		if !isHex(s[i]) {
			r, n := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += n
			continue
		}
		var cp rune
		j := i
		for j < len(s) && j-i < 6 && isHex(s[j]) {
			cp = cp<<4 | rune(hexVal(s[j]))
			j++
		}
		i = j
		if i < len(s) {
			switch s[i] {
			case ' ', '\t', '\n', '\f':
				i++
			case '\r':
				i++
				if i < len(s) && s[i] == '\n' {
					i++
				}
			}
		}
		if cp == 0 || cp > utf8.MaxRune || (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = utf8.RuneError
		}
		b.WriteRune(cp)
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
