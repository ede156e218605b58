package textrules

import (
	"net/url"
	"strings"
)

// MaxURLBytes is the longest link FirstURL returns; longer ones are
// skipped.
const MaxURLBytes = 2048

// FirstURL returns the first http or https link written in body, as a
// normalised absolute URL without its fragment, or "" when there is none.
// A link starts with http:// or https:// (any case) at the start of a word
// and ends at white space or a character a URL cannot hold unescaped;
// trailing punctuation of the sentence (".", ",", ")" without its "("...)
// is not part of it. Links with a user name or password are skipped: a
// preview must not carry credentials to a server.
func FirstURL(body string) string {
	lower := asciiLower(body) // same length as body, unlike strings.ToLower
	for i := 0; i < len(body); {
		j := nextScheme(lower, i)
		if j < 0 {
			return ""
		}
		end := j
		for end < len(body) && urlByte(body[end]) {
			end++
		}
		if u := cleanURL(body[j:end]); u != "" {
			return u
		}
		i = max(end, j+1)
	}
	return ""
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// nextScheme finds the next "http://" or "https://" at or after i that
// starts a word.
func nextScheme(lower string, i int) int {
	for i < len(lower) {
		k := strings.Index(lower[i:], "http")
		if k < 0 {
			return -1
		}
		j := i + k
		rest := lower[j:]
		if (strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://")) && (j == 0 || !wordByte(lower[j-1])) {
			return j
		}
		i = j + 4
	}
	return -1
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// urlByte reports whether c may be part of a link in running text: printable
// ASCII other than space and the delimiters around links (<>"`{}|\^).
func urlByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("<>\"`{}|\\^", rune(c))
}

func cleanURL(s string) string {
	for s != "" {
		last := s[len(s)-1]
		if strings.IndexByte(".,;:!?'*", last) >= 0 ||
			last == ')' && strings.Count(s, ")") > strings.Count(s, "(") ||
			last == ']' && strings.Count(s, "]") > strings.Count(s, "[") {
			s = s[:len(s)-1]
			continue
		}
		break
	}
	if len(s) > MaxURLBytes {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") && !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return ""
	}
	if u.User != nil || u.Hostname() == "" || u.Opaque != "" {
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	out := u.String()
	if len(out) > MaxURLBytes {
		return ""
	}
	return out
}
