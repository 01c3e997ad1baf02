// Package htmlcheck is the oracle of the Markdown fuzz tests: it parses
// HTML as a browser would and says whether anything in it could run
// script. It is for tests; the renderers rely on bluemonday, and this
// checks them independently.
package htmlcheck

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Unsafe parses s as a browser parses the body of a page and says
// what in it could run script, or "" when nothing can.
func Unsafe(s string) string {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return "unparsable: " + err.Error()
	}
	var walk func(n *html.Node) string
	walk = func(n *html.Node) string {
		if n.Type == html.ElementNode {
			switch strings.ToLower(n.Data) {
			case "script", "iframe", "frame", "object", "embed", "style", "base", "form", "meta", "link", "svg", "math":
				return "<" + n.Data + "> element"
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					return "event handler attribute " + a.Key
				}
				if key == "style" || key == "srcdoc" {
					return "attribute " + a.Key
				}
				switch key {
				case "href", "src", "action", "formaction", "xlink:href", "background", "poster", "cite", "srcset", "data":
					if scheme := urlScheme(a.Val); scheme == "javascript" || scheme == "vbscript" || scheme == "data" {
						return scheme + ": URL in " + a.Key
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if p := walk(c); p != "" {
				return p
			}
		}
		return ""
	}
	for _, n := range nodes {
		if p := walk(n); p != "" {
			return p
		}
	}
	return ""
}

// urlScheme returns the scheme of a URL as a browser reads it: it drops
// leading and trailing spaces and control characters and ignores tabs and
// newlines anywhere (the parser has already decoded entities).
func urlScheme(u string) string {
	var b strings.Builder
	for _, r := range strings.TrimFunc(u, func(r rune) bool { return r <= ' ' }) {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if r == ':' {
			return strings.ToLower(b.String())
		}
		if r == '/' || r == '?' || r == '#' {
			return ""
		}
		b.WriteRune(r)
	}
	return ""
}
