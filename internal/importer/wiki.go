// Package importer reads what other tools export — Jira's CSV, any CSV
// with a column mapping, Jira wiki markup — into plain items the app layer
// can write. It knows no SQL and no HTTP: it parses, converts and
// validates, and reports every row it could not use with its line, column
// and reason.
package importer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// WikiToMarkdown converts Jira wiki markup to Markdown: headings (h1.–h6.),
// *bold*, _italic_, -strike-, {{monospace}}, {code[:lang]} and {noformat}
// blocks, links ([text|url], [url], [~user]), images, * and # lists
// (nested), ||header|| tables and |cell| rows, bq. and {quote}. Markup it
// does not know ({color}, {panel}) is dropped and its text kept. It never
// fails: odd input comes out as text.
func WikiToMarkdown(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []string
	for _, seg := range splitVerbatim(s) {
		if seg.verbatim {
			body := strings.Trim(seg.text, "\n")
			fence := "```"
			for strings.Contains(body, fence) {
				fence += "`"
			}
			out = append(out, "", fence+seg.lang, body, fence, "")
			continue
		}
		out = append(out, convertBlocks(seg.text)...)
	}
	return tidy(out)
}

// tidy joins lines, collapsing runs of blank lines and trimming the ends.
func tidy(lines []string) string {
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteString("\n")
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}

type segment struct {
	text     string
	verbatim bool
	lang     string
}

// splitVerbatim cuts out {code}…{code} and {noformat}…{noformat} blocks,
// whose content is kept as it is. An unclosed block runs to the end.
func splitVerbatim(s string) []segment {
	var segs []segment
	for {
		i, tag, lang, n := nextVerbatimTag(s)
		if i < 0 {
			segs = append(segs, segment{text: s})
			return segs
		}
		if i > 0 {
			segs = append(segs, segment{text: s[:i]})
		}
		rest := s[i+n:]
		end := strings.Index(strings.ToLower(rest), "{"+tag+"}")
		if end < 0 {
			segs = append(segs, segment{text: rest, verbatim: true, lang: lang})
			return segs
		}
		segs = append(segs, segment{text: rest[:end], verbatim: true, lang: lang})
		s = rest[end+len(tag)+2:]
	}
}

// nextVerbatimTag finds the next opening {code…} or {noformat…} tag and
// returns its offset, name, language and length.
func nextVerbatimTag(s string) (at int, tag, lang string, n int) {
	lower := strings.ToLower(s)
	from := 0
	for {
		j := strings.IndexByte(lower[from:], '{')
		if j < 0 {
			return -1, "", "", 0
		}
		j += from
		for _, t := range []string{"code", "noformat"} {
			if !strings.HasPrefix(lower[j+1:], t) {
				continue
			}
			k := j + 1 + len(t)
			if k >= len(s) || (s[k] != '}' && s[k] != ':') {
				continue
			}
			end := strings.IndexByte(s[k:], '}')
			if end < 0 || strings.ContainsRune(s[k:k+end], '\n') {
				continue
			}
			params := ""
			if s[k] == ':' {
				params = s[k+1 : k+end]
			}
			return j, t, codeLang(t, params), k + end + 1 - j
		}
		from = j + 1
	}
}

// codeLang picks the language out of {code:java} or
// {code:title=A.java|language=java}.
func codeLang(tag, params string) string {
	if tag != "code" || params == "" {
		return ""
	}
	for _, p := range strings.Split(params, "|") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return cleanLang(k)
		}
		if strings.EqualFold(strings.TrimSpace(k), "language") || strings.EqualFold(strings.TrimSpace(k), "lang") {
			return cleanLang(v)
		}
	}
	return ""
}

func cleanLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '#' || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}

// convertBlocks converts the lines of text outside verbatim blocks.
func convertBlocks(text string) []string {
	var out []string
	quote := false
	var table [][]string
	var tableHead bool
	flushTable := func() {
		if len(table) == 0 {
			return
		}
		out = append(out, renderTable(table, tableHead)...)
		table, tableHead = nil, false
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		// {quote} toggles quoting; text on the same line stays.
		for {
			i := strings.Index(strings.ToLower(trimmed), "{quote}")
			if i < 0 {
				break
			}
			before, after := strings.TrimSpace(trimmed[:i]), strings.TrimSpace(trimmed[i+7:])
			if before != "" {
				out = append(out, quotePrefix(quote)+inline(before))
			}
			flushTable()
			quote = !quote
			trimmed = after
			if trimmed == "" {
				break
			}
		}
		if trimmed == "" {
			flushTable()
			out = append(out, "")
			continue
		}
		prefix := quotePrefix(quote)
		if strings.HasPrefix(trimmed, "|") {
			cells, head := tableRow(trimmed)
			if len(table) == 0 {
				tableHead = head
			}
			table = append(table, cells)
			continue
		}
		flushTable()
		switch {
		case isHeading(trimmed):
			level := int(trimmed[1] - '0')
			out = append(out, "", prefix+strings.Repeat("#", level)+" "+inline(strings.TrimSpace(trimmed[3:])), "")
		case strings.HasPrefix(trimmed, "bq. ") || trimmed == "bq.":
			out = append(out, "> "+inline(strings.TrimSpace(strings.TrimPrefix(trimmed, "bq."))), "")
		case trimmed == "----":
			out = append(out, "", prefix+"---", "")
		default:
			if marker, rest, ok := listItem(trimmed); ok {
				out = append(out, prefix+listLine(marker, rest))
				continue
			}
			out = append(out, prefix+inline(trimmed))
		}
	}
	flushTable()
	return out
}

func quotePrefix(q bool) string {
	if q {
		return "> "
	}
	return ""
}

func isHeading(s string) bool {
	return len(s) >= 3 && (s[0] == 'h' || s[0] == 'H') && s[1] >= '1' && s[1] <= '6' && s[2] == '.' &&
		(len(s) == 3 || s[3] == ' ' || s[3] == '\t')
}

// listItem recognises "* item", "## item", "*# item" and "- item".
func listItem(s string) (marker, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == '*' || s[i] == '#') {
		i++
	}
	if i == 0 {
		if strings.HasPrefix(s, "- ") {
			return "*", strings.TrimSpace(s[2:]), true
		}
		return "", "", false
	}
	if i >= len(s) || (s[i] != ' ' && s[i] != '\t') || i > 10 {
		return "", "", false
	}
	return s[:i], strings.TrimSpace(s[i:]), true
}

// listLine renders a list item: each level is indented to the content of
// its parent's marker, as CommonMark wants for nesting.
func listLine(marker, rest string) string {
	var b strings.Builder
	for _, m := range marker[:len(marker)-1] {
		if m == '#' {
			b.WriteString("   ")
		} else {
			b.WriteString("  ")
		}
	}
	if marker[len(marker)-1] == '#' {
		b.WriteString("1. ")
	} else {
		b.WriteString("- ")
	}
	b.WriteString(inline(rest))
	return b.String()
}

// tableRow splits "||a||b||" or "|a|b|" into cells, keeping pipes inside
// links and macros.
func tableRow(s string) (cells []string, head bool) {
	head = strings.HasPrefix(s, "||")
	var cur strings.Builder
	depthSq, depthCurly := 0, 0
	emit := func() {
		cells = append(cells, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	started := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[':
			depthSq++
		case c == ']' && depthSq > 0:
			depthSq--
		case c == '{':
			depthCurly++
		case c == '}' && depthCurly > 0:
			depthCurly--
		case c == '|' && depthSq == 0 && depthCurly == 0:
			if started {
				emit()
			}
			started = true
			for i+1 < len(s) && s[i+1] == '|' {
				i++
			}
			continue
		}
		cur.WriteByte(c)
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		cells = append(cells, rest)
	}
	for i := range cells {
		cells[i] = strings.ReplaceAll(inline(cells[i]), "|", `\|`)
	}
	return cells, head
}

func renderTable(rows [][]string, head bool) []string {
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	if n == 0 {
		return nil
	}
	line := func(cells []string) string {
		for len(cells) < n {
			cells = append(cells, "")
		}
		return "| " + strings.Join(cells, " | ") + " |"
	}
	out := []string{""}
	if head {
		out = append(out, line(rows[0]))
		rows = rows[1:]
	} else {
		out = append(out, line(nil))
	}
	out = append(out, "|"+strings.Repeat(" --- |", n))
	for _, r := range rows {
		out = append(out, line(r))
	}
	return append(out, "")
}

// maxSpan bounds how far a link, macro or emphasis may reach, so that a
// line full of unmatched markers costs linear time, not quadratic.
const maxSpan = 1000

func window(s string) string {
	if len(s) > maxSpan {
		return s[:maxSpan]
	}
	return s
}

// inline converts the markup inside one line.
func inline(s string) string { return inlineDepth(s, 0) }

// maxNesting bounds emphasis inside emphasis, so that nested markers
// cannot make the conversion slow.
const maxNesting = 3

func inlineDepth(s string, depth int) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if strings.HasPrefix(s[i:], `\\`) {
				b.WriteString("  \n")
				i += 2
				continue
			}
			if i+1 < len(s) && strings.IndexByte("*_-+{}[]!|^~?", s[i+1]) >= 0 {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '{':
			if strings.HasPrefix(s[i:], "{{") {
				if end := strings.Index(window(s[i+2:]), "}}"); end > 0 {
					code := s[i+2 : i+2+end]
					ticks := "`"
					for strings.Contains(code, ticks) {
						ticks += "`"
					}
					pad := ""
					if strings.HasPrefix(code, "`") || strings.HasSuffix(code, "`") {
						pad = " "
					}
					b.WriteString(ticks + pad + code + pad + ticks)
					i += 2 + end + 2
					continue
				}
			}
			if n := macroLen(s[i:]); n > 0 {
				i += n // {color:red}, {color}, {panel:title=x}, {anchor:a} …
				continue
			}
		case '[':
			if n, md := link(s[i:]); n > 0 {
				b.WriteString(md)
				i += n
				continue
			}
		case '!':
			if n, md := image(s[i:]); n > 0 {
				b.WriteString(md)
				i += n
				continue
			}
		case '*', '_', '-', '+', '?':
			if n, md := emphasis(s, i, depth); n > 0 {
				b.WriteString(md)
				i += n
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// macroLen returns the length of a known macro tag at the start of s.
func macroLen(s string) int {
	end := strings.IndexByte(window(s), '}')
	if end < 0 {
		return 0
	}
	name, _, _ := strings.Cut(strings.ToLower(s[1:end]), ":")
	switch name {
	case "color", "panel", "anchor", "section", "column", "tip", "info", "note", "warning":
		return end + 1
	}
	return 0
}

// link converts [text|url], [url], [~user] and [#anchor].
func link(s string) (int, string) {
	end := strings.IndexByte(window(s), ']')
	if end < 2 || strings.ContainsAny(s[1:end], "[\n") {
		return 0, ""
	}
	body := s[1:end]
	if strings.HasPrefix(body, "~") {
		return end + 1, "@" + strings.TrimPrefix(body, "~")
	}
	text, target, hasText := strings.Cut(body, "|")
	if !hasText {
		target = body
	}
	target = strings.TrimSpace(target)
	if strings.HasPrefix(target, "~") {
		return end + 1, strings.TrimSpace(text) + " (@" + strings.TrimPrefix(target, "~") + ")"
	}
	if strings.HasPrefix(target, "#") && !hasText {
		return end + 1, target[1:]
	}
	if !looksLikeURL(target) {
		if hasText {
			return end + 1, inline(strings.TrimSpace(text))
		}
		return 0, ""
	}
	target = strings.ReplaceAll(strings.ReplaceAll(target, "(", "%28"), ")", "%29")
	target = strings.ReplaceAll(target, " ", "%20")
	if !hasText || strings.TrimSpace(text) == "" {
		return end + 1, "<" + strings.ReplaceAll(strings.ReplaceAll(target, "<", "%3C"), ">", "%3E") + ">"
	}
	return end + 1, "[" + inline(strings.TrimSpace(text)) + "](" + target + ")"
}

func looksLikeURL(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"http://", "https://", "mailto:", "ftp://", "file:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// image converts !file.png! and !url|options!.
func image(s string) (int, string) {
	end := strings.IndexByte(window(s[1:]), '!')
	if end <= 0 {
		return 0, ""
	}
	body := s[1 : 1+end]
	if strings.ContainsAny(body, " \t\n[]") {
		return 0, ""
	}
	src, _, _ := strings.Cut(body, "|")
	if !strings.Contains(src, ".") {
		return 0, ""
	}
	return end + 2, "![](" + src + ")"
}

// emphasis converts *bold*, _italic_, -strike-, +insert+ and ??citation??
// when the markers sit at word boundaries, as Jira wants them.
func emphasis(s string, i, depth int) (int, string) {
	if depth >= maxNesting {
		return 0, ""
	}
	c := s[i]
	mark := string(c)
	if c == '?' {
		if !strings.HasPrefix(s[i:], "??") {
			return 0, ""
		}
		mark = "??"
	}
	if i > 0 {
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		if unicode.IsLetter(prev) || unicode.IsDigit(prev) || prev == rune(c) {
			return 0, ""
		}
	}
	start := i + len(mark)
	if start >= len(s) || s[start] == ' ' || s[start] == '\t' || s[start] == c {
		return 0, ""
	}
	for j := start + 1; j < len(s) && j < start+maxSpan; j++ {
		if !strings.HasPrefix(s[j:], mark) {
			continue
		}
		if s[j-1] == ' ' || s[j-1] == '\t' {
			continue
		}
		after := j + len(mark)
		if after < len(s) {
			next, _ := utf8.DecodeRuneInString(s[after:])
			if unicode.IsLetter(next) || unicode.IsDigit(next) {
				continue
			}
		}
		inner := inlineDepth(s[start:j], depth+1)
		switch c {
		case '*':
			return after - i, "**" + inner + "**"
		case '_', '?':
			return after - i, "*" + inner + "*"
		case '-':
			return after - i, "~~" + inner + "~~"
		case '+':
			return after - i, inner // Markdown has no underline
		}
	}
	return 0, ""
}
