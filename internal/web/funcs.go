package web

import (
	"bytes"
	"fmt"
	"html/template"
	"maps"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/northstar-pm/northstar"
)

// markdown renders user Markdown to HTML: goldmark escapes raw HTML, and
// bluemonday's UGC policy removes anything dangerous that remains (such as
// javascript: links).
var (
	markdownRenderer = goldmark.New(goldmark.WithExtensions(extension.GFM))
	markdownPolicy   = bluemonday.UGCPolicy()
)

func renderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdownRenderer.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(markdownPolicy.SanitizeBytes(buf.Bytes()))
}

func (web *Web) funcs() template.FuncMap {
	fm := template.FuncMap{
		"markdown": renderMarkdown,
		"can": func(u *northstar.User, role northstar.Role, action string) bool {
			return u != nil && northstar.Can(u.Admin, role, northstar.Action(action))
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2 Jan 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2 Jan 2006 15:04 UTC")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago": timeAgo,
		"initials": func(name string) string {
			var out []rune
			prev := ' '
			for _, c := range name {
				if prev == ' ' && c != ' ' && len(out) < 2 {
					out = append(out, c)
				}
				prev = c
			}
			return string(out)
		},
		"stages": func() []northstar.Stage { return northstar.Stages },
		"roles":  func() []northstar.Role { return northstar.Roles },
	}
	maps.Copy(fm, storyFuncs())
	maps.Copy(fm, discoveryFuncs())
	return fm
}

func timeAgo(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	case d < 30*24*time.Hour:
		return plural(int(d.Hours()/24), "day") + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
