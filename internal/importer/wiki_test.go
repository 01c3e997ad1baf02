package importer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWikiToMarkdown(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "Just text.", "Just text."},
		{"heading 1", "h1. Title", "# Title"},
		{"heading 3", "h3. Steps to reproduce", "### Steps to reproduce"},
		{"heading 6", "h6. Small", "###### Small"},
		{"not a heading", "h7. no", "h7. no"},
		{"bold", "a *bold* word", "a **bold** word"},
		{"italic", "an _italic_ word", "an *italic* word"},
		{"bold italic", "*_both_*", "***both***"},
		{"strike", "a -gone- word", "a ~~gone~~ word"},
		{"no strike in words", "well-known re-use", "well-known re-use"},
		{"flags stay", "run --verbose -v", "run --verbose -v"},
		{"snake_case stays", "call my_func_name now", "call my_func_name now"},
		{"star math stays", "2 * 3 * 4", "2 * 3 * 4"},
		{"monospace", "use {{go test}} here", "use `go test` here"},
		{"code block", "before\n{code}\nx := 1\n{code}\nafter", "before\n\n```\nx := 1\n```\n\nafter"},
		{"code block with lang", "{code:java}\nint x = 1;\n{code}", "```java\nint x = 1;\n```"},
		{"code block with title", "{code:title=A.java|borderStyle=solid|language=java}\nclass A {}\n{code}", "```java\nclass A {}\n```"},
		{"code keeps markup", "{code}\n*not bold* [x|y]\n{code}", "```\n*not bold* [x|y]\n```"},
		{"inline code block", "see {code}a*b*c{code} there", "see\n\n```\na*b*c\n```\n\nthere"},
		{"noformat", "{noformat}\n  raw  *text*\n{noformat}", "```\n  raw  *text*\n```"},
		{"unclosed code", "{code}\nfoo", "```\nfoo\n```"},
		{"backticks in code", "{code}\n```\n{code}", "````\n```\n````"},
		{"link with text", "see [the docs|https://example.com/a]", "see [the docs](https://example.com/a)"},
		{"bare link", "[https://example.com]", "<https://example.com>"},
		{"user mention", "ping [~jsmith]", "ping @jsmith"},
		{"anchor", "[#top]", "top"},
		{"issue link text", "[MESOS-1]", "[MESOS-1]"},
		{"link with non-url", "[label|SomePage]", "label"},
		{"image", "!screen.png!", "![](screen.png)"},
		{"image with options", "!screen.png|thumbnail!", "![](screen.png)"},
		{"exclamation stays", "Wow! Great!", "Wow! Great!"},
		{"bullets", "* one\n* two", "- one\n- two"},
		{"nested bullets", "* one\n** inner\n* two", "- one\n  - inner\n- two"},
		{"numbered", "# first\n# second", "1. first\n1. second"},
		{"nested numbered", "# first\n## sub\n#* bullet", "1. first\n   1. sub\n   - bullet"},
		{"dash list", "- item", "- item"},
		{"list with bold", "* *bold* item", "- **bold** item"},
		{"table", "||a||b||\n|1|2|", "| a | b |\n| --- | --- |\n| 1 | 2 |"},
		{"table without header", "|1|2|\n|3|4|", "|  |  |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |"},
		{"table with link", "||name||link||\n|x|[go|https://go.dev]|", "| name | link |\n| --- | --- |\n| x | [go](https://go.dev) |"},
		{"ragged table", "||a||b||c||\n|1|", "| a | b | c |\n| --- | --- | --- |\n| 1 |  |  |"},
		{"bq", "bq. quoted", "> quoted"},
		{"quote block", "{quote}\nsaid\nthis\n{quote}\nafter", "> said\n> this\n\nafter"},
		{"quote inline", "{quote}said{quote}", "> said"},
		{"color dropped", "{color:red}red{color} text", "red text"},
		{"panel dropped", "{panel:title=Note}\ninside\n{panel}", "inside"},
		{"rule", "----", "---"},
		{"line break", `one\\two`, "one  \ntwo"},
		{"escaped star", `a \*star\*`, `a \*star\*`},
		{"crlf", "a\r\nb", "a\nb"},
		{"blank lines collapse", "a\n\n\n\nb", "a\n\nb"},
		{"citation", "??Someone??", "*Someone*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WikiToMarkdown(tt.in); got != tt.want {
				t.Errorf("WikiToMarkdown(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWikiToMarkdownLinearOnUnmatchedMarkers(t *testing.T) {
	in := strings.Repeat("[*_{{!", 50000)
	out := WikiToMarkdown(in)
	if !utf8.ValidString(out) {
		t.Fatal("output is not valid UTF-8")
	}
}

func FuzzWikiToMarkdown(f *testing.F) {
	for _, s := range []string{
		"h1. x", "*b* _i_ -s- +u+ ??c??", "{code:java}\nx\n{code}", "{noformat}a", "[a|http://x]", "[~u]",
		"* a\n** b\n# c", "||a||b||\n|1|2|", "bq. q", "{quote}q{quote}", "!a.png|x!", "{{m}}", `a\\b`, "{color:red}x{color}",
		"\xff\xfe", "{code", "[", "|", "*", "{{`}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := WikiToMarkdown(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if len(out) > 8*len(s)+64 {
			t.Fatalf("output of %d bytes for %d bytes in", len(out), len(s))
		}
	})
}
