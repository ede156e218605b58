package sniff

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
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

// svgForbidden are elements that run script, embed other documents or
// navigate (in any namespace, compared in lower case).
var svgForbidden = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "embed": true,
	"object": true, "handler": true, "listener": true, "audio": true, "video": true, "meta": true,
	"link": true, "base": true, "applet": true, "frame": true, "frameset": true, "portal": true}

// xhtmlNS: HTML elements are refused whatever their name.
const xhtmlNS = "http://www.w3.org/1999/xhtml"

// checkSVG refuses (rather than sanitises) any SVG that can run script or
// reach outside itself. It reads the document with encoding/xml's
// tokenizer, so entities and character references are decoded before any
// rule sees a value, and it checks CSS after decoding CSS escapes (see
// checkCSS). Refused: script-capable, embedding, navigating and HTML
// elements; on* event handlers; javascript: anywhere in an attribute;
// href, src and base attributes to anything but a local #fragment; CSS
// (every attribute value, and all the text of a <style>, which may hold
// nothing but text) that fetches anything but a #fragment; DOCTYPE internal
// subsets (entity expansion); processing instructions other than the XML
// declaration; and animations that rewrite href.
func checkSVG(r io.Reader) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	roots, depth := 0, 0
	styleDepth := 0 // depth of the open <style> element, 0 outside one
	var css strings.Builder
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
			if styleDepth > 0 {
				return refused("SVG with elements inside <style> is not accepted")
			}
			name := strings.ToLower(t.Name.Local)
			if depth == 0 {
				roots++
				if name != "svg" || roots > 1 {
					return refused("the SVG's root element must be one <svg>")
				}
			}
			depth++
			if svgForbidden[name] || t.Name.Space == xhtmlNS {
				return refused("SVG with <%s> is not accepted (it can run script, embed documents or navigate)", t.Name.Local)
			}
			if name == "style" {
				styleDepth = depth
				css.Reset()
			}
			for _, a := range t.Attr {
				if err := checkSVGAttr(name, a); err != nil {
					return err
				}
			}
		case xml.EndElement:
			if styleDepth == depth {
				styleDepth = 0
				if err := checkCSS(css.String()); err != nil {
					return err
				}
			}
			depth--
		case xml.CharData:
			if styleDepth > 0 {
				css.Write(t) // CDATA sections arrive as CharData too
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

// checkSVGAttr applies the attribute rules of checkSVG to attribute a of
// element elem (lower case). Values arrive with entities decoded.
func checkSVGAttr(elem string, a xml.Attr) error {
	an, v := strings.ToLower(a.Name.Local), strings.TrimSpace(a.Value)
	lv := strings.ToLower(v)
	if a.Name.Space == "xmlns" || (a.Name.Space == "" && an == "xmlns") {
		return nil // a namespace declaration names a namespace; nothing fetches it
	}
	switch {
	case strings.HasPrefix(an, "on"):
		return refused("SVG with event handlers (%s=) is not accepted", a.Name.Local)
	case strings.Contains(strings.Join(strings.Fields(lv), ""), "javascript:"):
		return refused("SVG with javascript: URLs is not accepted")
	case (an == "href" || an == "src" || an == "base") && !strings.HasPrefix(v, "#"):
		return refused("SVG with external references (%s=%q) is not accepted", a.Name.Local, v)
	case (elem == "set" || strings.HasPrefix(elem, "animate")) && an == "attributename" && strings.HasSuffix(lv, "href"):
		return refused("SVG animating href is not accepted")
	}
	return checkCSS(v)
}
