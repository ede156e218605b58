package sniff_test

import (
	"errors"
	"strings"
	"testing"

	"messenger/sniff"
)

const svgOpen = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`

// Every way found for an SVG to fetch something, navigate or run script
// is refused, however it is spelt: the checker reads the document with a
// real XML tokenizer (entities, CDATA and comments as a browser sees them)
// and CSS after its escapes are decoded.
func TestSVGThatCanReachOutsideItselfIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		// A child element inside <style> used to end the style check.
		{"element inside style hides an import", `<style><b></b>@import url(https://evil.example/x.css);</style>`},
		{"empty element inside style", `<style><x/>rect{fill:url(https://evil.example/p)}</style>`},
		// CSS escapes used to pass the url( check.
		{"escaped url", `<style>rect{fill:u\72l(https://evil.example/p)}</style>`},
		{"escaped url with a space", `<style>rect{fill:u\72 l(https://evil.example/p)}</style>`},
		{"escaped url, six digits", `<style>rect{fill:u\000072l(https://evil.example/p)}</style>`},
		{"every letter escaped", `<style>rect{fill:\75\72\6c(https://evil.example/p)}</style>`},
		{"escaped import", `<style>@\69mport "https://evil.example/x.css";</style>`},
		{"escaped import, literal escape", `<style>@\import "https://evil.example/x.css";</style>`},
		{"upper-case URL", `<style>rect{fill:URL(https://evil.example/p)}</style>`},
		{"quoted url with spaces", `<style>rect{fill:url( 'https://evil.example/p' )}</style>`},
		{"string starting with a paren", `<style>rect{fill:url(")https://evil.example/p")}</style>`},
		// Ways to hide text from a per-token check.
		{"CDATA in style", `<style><![CDATA[@import url(https://evil.example/x.css);]]></style>`},
		{"CDATA splits the keyword", `<style>@im<![CDATA[port]]> url(https://evil.example/x.css);</style>`},
		{"comment splits the keyword", `<style>@imp<!-- x -->ort url(https://evil.example/x.css);</style>`},
		{"character reference in style", `<style>&#x40;import url(https://evil.example/x.css);</style>`},
		{"style in another namespace", `<x:style xmlns:x="urn:x">@import url(https://evil.example/x.css);</x:style>`},
		// Other fetching CSS.
		{"import of a string", `<style>@import "https://evil.example/x.css";</style>`},
		{"font face", `<style>@font-face{font-family:f;src:local(x)}</style>`},
		{"image-set", `<style>rect{fill:image-set("https://evil.example/p.png" 1x)}</style>`},
		{"prefixed image-set", `<style>rect{fill:-webkit-image-set("https://evil.example/p.png" 1x)}</style>`},
		{"image()", `<style>rect{fill:image("https://evil.example/p.png")}</style>`},
		{"src()", `<style>rect{fill:src("https://evil.example/p.png")}</style>`},
		// CSS in attributes.
		{"style attribute with escapes", `<rect style="fill:u\72l(https://evil.example/p)"/>`},
		{"style attribute with an entity", `<rect style="fill:&#117;rl(https://evil.example/p)"/>`},
		{"presentation attribute", `<rect fill="url(https://evil.example/p#a)"/>`},
		{"animation writing a style", `<rect><set attributeName="style" to="fill:url(https://evil.example/p)"/></rect>`},
		// Script and navigation.
		{"entity-encoded javascript", `<a href="&#106;avascript:alert(1)"><rect/></a>`},
		{"javascript with an encoded colon", `<a xlink:href="javascript&#58;alert(1)"><rect/></a>`},
		{"javascript in animation values", `<a><animate attributeName="title" values="javascript:alert(1)"/></a>`},
		{"javascript split by a tab", `<a href="java&#x09;script:alert(1)"><rect/></a>`},
		{"animation rewriting an href", `<a href="#x"><set attributeName="xlink:HREF" to="#y"/></a>`},
		{"external xlink:href", `<use xlink:href="https://evil.example/s.svg#x"/>`},
		{"external href in another namespace", `<use y:href="https://evil.example/s.svg#x" xmlns:y="urn:y"/>`},
		{"data URL", `<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/>`},
		{"src attribute", `<image src="https://evil.example/p.png"/>`},
		{"xml:base", `<g xml:base="https://evil.example/"><use href="#a"/></g>`},
		{"upper-case script", `<SCRIPT>alert(1)</SCRIPT>`},
		{"namespaced script", `<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>`},
		{"mixed-case handler", `<rect onLoad="alert(1)"/>`},
		{"namespaced handler", `<rect x:onclick="alert(1)" xmlns:x="urn:x"/>`},
		{"html element", `<h:div xmlns:h="http://www.w3.org/1999/xhtml">hi</h:div>`},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example/"/>`},
		{"stylesheet processing instruction", `<?xml-stylesheet href="https://evil.example/x.css"?><rect/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := svgOpen + tc.body + `</svg>`
			if _, err := inspect([]byte(doc)); !errors.Is(err, sniff.ErrRefused) {
				t.Fatalf("Inspect(%s) = %v, want a refusal", doc, err)
			}
		})
	}
}

// What design tools write (class rules in <style>, CDATA, local
// gradients, editor metadata in their own namespaces) is accepted.
func TestOrdinarySVGIsAccepted(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"class rules", `<style type="text/css">.st0{fill:#FF0000;stroke:rgb(0,0,0)}</style><rect class="st0"/>`},
		{"CDATA style with a local url", `<defs><linearGradient id="g"/></defs><style><![CDATA[.a{fill:url(#g)}]]></style>`},
		{"quoted local url", `<style>.a{fill:url( "#g" )}</style>`},
		{"escaped hash", `<style>.a{fill:url(\23 g)}</style>`},
		{"style attribute", `<rect style="fill:url(#g);stroke:#000;stroke-width:calc(1px + 2px)"/>`},
		{"editor metadata", `<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" pagecolor="#fff"/>`},
		{"local use", `<symbol id="s"><rect/></symbol><use xlink:href="#s"/>`},
		{"local animation", `<rect><animate attributeName="x" from="0" to="10" dur="1s"/></rect>`},
		{"namespace prefixes named like attributes", `<g xmlns:base="http://example.com/b" xmlns:href="urn:h"/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := svgOpen + tc.body + `</svg>`
			c, err := inspect([]byte(doc))
			if err != nil || c.ContentType != "image/svg+xml" {
				t.Fatalf("Inspect(%s) = %+v, %v", doc, c, err)
			}
		})
	}
}

// The refusal says what was found, so the user can fix the file.
func TestSVGRefusalNamesTheReason(t *testing.T) {
	_, err := inspect([]byte(svgOpen + `<style>rect{fill:u\72l(https://evil.example/p)}</style></svg>`))
	if err == nil || !strings.Contains(err.Error(), "external references in styles") {
		t.Fatalf("Inspect = %v", err)
	}
}
