package web

import (
	"testing"

	"github.com/northstar-pm/northstar/internal/htmlcheck"
)

// markdownSeeds are Markdown texts that try to get script into a page.
var markdownSeeds = []string{
	"# Title\n\n*em* **strong** `code` [link](https://example.com) ![img](https://example.com/a.png)",
	"<script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"[x](javascript:alert(1))",
	"[x](JaVaScRiPt:alert(1))",
	"[x](java\tscript:alert(1))",
	"[x](&#106;avascript:alert(1))",
	"[x]( javascript:alert(1) )",
	"![x](javascript:alert(1))",
	"<a href=\"javascript:alert(1)\">x</a>",
	"[x]: javascript:alert(1)\n\n[x]",
	"<javascript:alert(1)>",
	"<svg onload=alert(1)>",
	"<iframe src=https://evil.example></iframe>",
	"<details open ontoggle=alert(1)>",
	"```html\n<script>alert(1)</script>\n```",
	"| a | b |\n|---|---|\n| <script> | [x](vbscript:x) |",
	"- [ ] task\n- [x] done",
	"www.example.com/<script>",
	"<style>body{display:none}</style>",
	"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	"\x00<scr\x00ipt>",
}

// FuzzMarkdown renders arbitrary Markdown as the pages do and parses the
// HTML the way a browser would: no script, no element that runs or embeds
// something, no event handler attribute and no script URL may come out.
func FuzzMarkdown(f *testing.F) {
	for _, s := range markdownSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := string(renderMarkdown(src))
		if problem := htmlcheck.Unsafe(out); problem != "" {
			t.Fatalf("Markdown %q renders to %q: %s", src, out, problem)
		}
	})
}
