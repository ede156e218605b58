package search

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Text analysis happens here, in Go, for both backends: the engines only
// split the prepared text on spaces (OpenSearch's core `whitespace`
// analyzer, bleve's whitespace tokenizer), so they cannot drift apart and
// the OpenSearch distribution needs no analysis plugin.
//
// A token is a run of letters, digits and combining marks; everything else
// (spaces, punctuation, symbols, emoji) separates tokens. Each token is
// folded: compatibility-decomposed (NFKD: ligatures, full-width forms),
// stripped of the diacritics of Latin, Greek and Cyrillic (U+0300-U+036F),
// of Hebrew points and of Arabic harakat, recomposed (NFC) and case-folded
// (so "Straße" matches "strasse", "Ça" matches "ca"). Marks of other
// scripts (Indic vowel signs, kana voicing) are kept: they change the word.
//
// Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao,
// Khmer, Myanmar) become one token per character, the way Lucene's standard
// tokenizer treats ideographs; a query's run of such characters must match
// as a phrase (adjacent, in order), so "東京" finds "東京タワー" but not
// "京 … 東".

// Token is one searchable word of a text.
type Token struct {
	// Term is the folded form that is indexed and matched.
	Term string
	// Start and End are byte offsets of the word in the original text.
	Start, End int
	// Char is true for a one-character token of a script written without
	// spaces: consecutive ones form a phrase.
	Char bool
}

// Tokenize splits text into folded tokens.
func Tokenize(text string) []Token {
	var out []Token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			if t := fold(text[start:end]); t != "" {
				out = append(out, Token{Term: t, Start: start, End: end})
			}
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case perChar(r):
			flush(i)
			end := i + utf8.RuneLen(r)
			// Trailing combining marks (kana voicing marks) stay with their character.
			for end < len(text) {
				r2, n := utf8.DecodeRuneInString(text[end:])
				if !unicode.IsMark(r2) {
					break
				}
				end += n
			}
			if t := fold(text[i:end]); t != "" {
				out = append(out, Token{Term: t, Start: i, End: end, Char: true})
			}
		case unicode.IsLetter(r) || unicode.IsNumber(r) || (unicode.IsMark(r) && start >= 0):
			if start < 0 {
				start = i
			}
		case unicode.IsMark(r):
			// A mark that follows a per-character token was consumed with it.
		default:
			flush(i)
		}
	}
	flush(len(text))
	// Marks consumed with per-character tokens appear again in the loop as
	// their own runes: drop tokens that start inside a previous token.
	kept := out[:0]
	end := -1
	for _, t := range out {
		if t.Start >= end {
			kept = append(kept, t)
			end = t.End
		}
	}
	return kept
}

// IndexText is the text handed to the engine: the folded terms joined by
// single spaces.
func IndexText(text string) string {
	toks := Tokenize(text)
	terms := make([]string, len(toks))
	for i, t := range toks {
		terms[i] = t.Term
	}
	return strings.Join(terms, " ")
}

func perChar(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// foldedMark reports the combining marks dropped when folding.
func foldedMark(r rune) bool {
	return (r >= 0x0300 && r <= 0x036F) || // combining diacritical marks (Latin, Greek, Cyrillic)
		(r >= 0x0591 && r <= 0x05C7 && unicode.IsMark(r)) || // Hebrew points and cantillation
		(r >= 0x064B && r <= 0x065F) || r == 0x0670 // Arabic harakat
}

func fold(word string) string {
	d := norm.NFKD.String(word)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if foldedMark(r) {
			continue
		}
		b.WriteRune(r)
	}
	return unfoldable.Replace(cases.Fold().String(norm.NFC.String(b.String())))
}

// unfoldable are letters with no decomposition that people type without
// their stroke or as two letters anyway.
var unfoldable = strings.NewReplacer("ł", "l", "ø", "o", "đ", "d", "ð", "d", "ħ", "h", "ŧ", "t", "ı", "i", "æ", "ae", "œ", "oe", "þ", "th")

// Query is a parsed search query: every term must occur, and every phrase
// must occur as consecutive tokens.
type Query struct {
	// Terms are folded words that must each occur.
	Terms []string
	// Phrases are runs of per-character tokens (CJK, Thai, ...) that must
	// occur in order and adjacent.
	Phrases [][]string
}

// ParseQuery analyses a user's query exactly as documents are analysed.
// A query with no token (only punctuation or emoji) is Empty.
func ParseQuery(text string) Query {
	var q Query
	seen := map[string]bool{}
	var run []string
	endRun := func() {
		if len(run) == 1 && !seen[run[0]] {
			q.Terms = append(q.Terms, run[0])
			seen[run[0]] = true
		} else if len(run) > 1 {
			q.Phrases = append(q.Phrases, run)
		}
		run = nil
	}
	prevEnd := -1
	for _, t := range Tokenize(text) {
		if t.Char && (len(run) == 0 || t.Start == prevEnd) {
			run = append(run, t.Term)
			prevEnd = t.End
			continue
		}
		endRun()
		if t.Char {
			run = append(run, t.Term)
			prevEnd = t.End
			continue
		}
		if !seen[t.Term] {
			q.Terms = append(q.Terms, t.Term)
			seen[t.Term] = true
		}
	}
	endRun()
	return q
}

// Empty reports a query with nothing to search for.
func (q Query) Empty() bool { return len(q.Terms) == 0 && len(q.Phrases) == 0 }

// matches marks the tokens of toks that the query matches, and reports
// whether the whole query matches (every term and every phrase found).
func (q Query) matches(toks []Token) ([]bool, bool) {
	hit := make([]bool, len(toks))
	all := true
	for _, term := range q.Terms {
		found := false
		for i, t := range toks {
			if t.Term == term {
				hit[i], found = true, true
			}
		}
		all = all && found
	}
	for _, ph := range q.Phrases {
		found := false
		for i := 0; i+len(ph) <= len(toks); i++ {
			ok := true
			for j, p := range ph {
				if toks[i+j].Term != p {
					ok = false
					break
				}
			}
			if ok {
				found = true
				for j := range ph {
					hit[i+j] = true
				}
			}
		}
		all = all && found
	}
	return hit, all
}

// Matches reports whether text satisfies the query under the same analysis
// the engines use. The domain uses it to drop hits whose message changed
// after it was indexed (the index is eventually consistent).
func (q Query) Matches(text string) bool {
	_, ok := q.matches(Tokenize(text))
	return ok
}

// Highlight tag pair wrapped around matching words in snippets.
const (
	MarkStart = "<mark>"
	MarkEnd   = "</mark>"
)

// Highlights returns up to limit snippets of text around the words that match
// q: HTML-escaped text with the matching words wrapped in <mark>…</mark>.
// A short text is one snippet; a long one gives a window of about radius
// characters either side of each group of matches, with "…" where text was
// cut. No match gives no snippet.
func Highlights(text string, q Query, limit, radius int) []string {
	toks := Tokenize(text)
	hit, _ := q.matches(toks)
	var spans [][2]int // byte ranges of windows
	for i, t := range toks {
		if !hit[i] {
			continue
		}
		lo, hi := backRunes(text, t.Start, radius), forwardRunes(text, t.End, radius)
		if n := len(spans); n > 0 && lo <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], hi)
			continue
		}
		if len(spans) == limit {
			break
		}
		spans = append(spans, [2]int{lo, hi})
	}
	out := make([]string, 0, len(spans))
	for _, sp := range spans {
		var b strings.Builder
		if sp[0] > 0 {
			b.WriteString("…")
		}
		pos := sp[0]
		for i, t := range toks {
			if !hit[i] || t.Start < sp[0] || t.End > sp[1] {
				continue
			}
			b.WriteString(html.EscapeString(text[pos:t.Start]))
			b.WriteString(MarkStart)
			b.WriteString(html.EscapeString(text[t.Start:t.End]))
			b.WriteString(MarkEnd)
			pos = t.End
		}
		b.WriteString(html.EscapeString(text[pos:sp[1]]))
		if sp[1] < len(text) {
			b.WriteString("…")
		}
		out = append(out, strings.TrimSpace(b.String()))
	}
	return out
}

// backRunes moves n runes back from byte offset i, then forward to a word
// boundary so a snippet does not start mid-word.
func backRunes(s string, i, n int) int {
	start := i
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	if i == 0 {
		return 0
	}
	if j := strings.IndexAny(s[i:start], " \n\t"); j >= 0 {
		return i + j + 1
	}
	return i
}

func forwardRunes(s string, i, n int) int {
	end := i
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i >= len(s) {
		return len(s)
	}
	if j := strings.LastIndexAny(s[end:i], " \n\t"); j >= 0 {
		return end + j
	}
	return i
}

// UserTerms are the prefixes a user is found by: the folded username and
// each folded word of the display name, plus the whole folded display name.
func UserTerms(u User) (username string, words []string) {
	username = fold(u.Username)
	for _, t := range Tokenize(u.DisplayName) {
		words = append(words, t.Term)
	}
	if len(words) > 1 {
		words = append(words, strings.Join(words, " "))
	}
	return username, words
}

// UserPrefixes folds a user query: as a username prefix (which keeps '_',
// '.' and '-') and as a display-name prefix (words joined by one space, so
// "ann lee" finds "Ann Lee").
func UserPrefixes(p string) (username, words string) {
	return fold(strings.TrimSpace(p)), userWords(p)
}

func userWords(p string) string {
	toks := Tokenize(p)
	terms := make([]string, len(toks))
	for i, t := range toks {
		terms[i] = t.Term
	}
	return strings.Join(terms, " ")
}
