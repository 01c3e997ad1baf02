package api

import (
	"testing"

	"github.com/northstar-pm/northstar/internal/htmlcheck"
)

// FuzzCommentMarkdown renders arbitrary comment bodies to the HTML the API
// answers with (the "html" field): no script, event handler or script URL
// may come out.
func FuzzCommentMarkdown(f *testing.F) {
	for _, s := range []string{
		"Looks good to me, @ada — see [the spec](https://example.com/spec).",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[x](JAVASCRIPT&#58;alert(1))",
		"[x](\tjavascript:alert(1))",
		"<a href='vbscript:x'>x</a>",
		"[x]: javascript:alert(1)\n\n[x]",
		"```\n</code><script>x</script>\n```",
		"<svg><script>alert(1)</script></svg>",
		"| a |\n|---|\n| <img src=x onerror=1> |",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := renderCommentHTML(src)
		if problem := htmlcheck.Unsafe(out); problem != "" {
			t.Fatalf("comment %q renders to %q: %s", src, out, problem)
		}
	})
}
