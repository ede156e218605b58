package sniff

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// looksLikeSVG: the first element of the document is <svg>.
func looksLikeSVG(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(head))
	d.Strict = false
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return strings.EqualFold(se.Name.Local, "svg")
		}
	}
}

var (
	cssURL = regexp.MustCompile(`(?i)url\(\s*['"]?\s*([^#'"\s)])`)
	// Elements that run script or embed other documents.
	svgForbidden = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "embed": true,
		"object": true, "handler": true, "listener": true, "audio": true, "video": true}
)

// checkSVG refuses (rather than sanitises) any SVG that can run script or
// reach outside itself: script-capable elements, on* event handlers,
// javascript: anywhere in an attribute, href/xlink:href to anything but a
// local #fragment, url(...) to anything but #fragment, @import, DOCTYPE
// internal subsets (entity expansion), processing instructions other than
// the XML declaration, and animations that rewrite href.
func checkSVG(r io.Reader) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	inStyle := false
	roots := 0
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refused("the SVG is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if depth == 0 {
				roots++
				if name != "svg" || roots > 1 {
					return refused("the SVG's root element must be one <svg>")
				}
			}
			depth++
			if svgForbidden[name] {
				return refused("SVG with <%s> is not accepted (it can run script or embed documents)", t.Name.Local)
			}
			inStyle = name == "style"
			for _, a := range t.Attr {
				an, v := strings.ToLower(a.Name.Local), strings.TrimSpace(a.Value)
				lv := strings.ToLower(v)
				switch {
				case strings.HasPrefix(an, "on"):
					return refused("SVG with event handlers (%s=) is not accepted", a.Name.Local)
				case strings.Contains(strings.Join(strings.Fields(lv), ""), "javascript:"):
					return refused("SVG with javascript: URLs is not accepted")
				case an == "href" && !strings.HasPrefix(v, "#"):
					return refused("SVG with external references (href=%q) is not accepted", v)
				case (name == "set" || strings.HasPrefix(name, "animate")) && an == "attributename" && strings.HasSuffix(lv, "href"):
					return refused("SVG animating href is not accepted")
				case cssURL.MatchString(v) || strings.Contains(lv, "@import"):
					return refused("SVG with external references in styles is not accepted")
				}
			}
		case xml.EndElement:
			depth--
			inStyle = false
		case xml.CharData:
			if inStyle && (cssURL.Match(t) || bytes.Contains(bytes.ToLower(t), []byte("@import"))) {
				return refused("SVG with external references in styles is not accepted")
			}
		case xml.Directive:
			if bytes.Contains(t, []byte("[")) || bytes.Contains(bytes.ToUpper(t), []byte("ENTITY")) ||
				bytes.Contains(bytes.ToUpper(t), []byte("SYSTEM")) || bytes.Contains(bytes.ToUpper(t), []byte("PUBLIC")) {
				return refused("SVG with a DOCTYPE declaring entities or external DTDs is not accepted")
			}
		case xml.ProcInst:
			if t.Target != "xml" {
				return refused("SVG with processing instructions (<?%s?>) is not accepted", t.Target)
			}
		}
	}
	if roots != 1 {
		return refused("the SVG has no <svg> element")
	}
	return nil
}
