package importer

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
)

// Kinds of imported items.
const (
	KindStory   = "story"
	KindFeature = "feature"
)

// Item is one imported row, ready to become a story or a feature.
type Item struct {
	Line int `json:"line"`
	// Key is the item's reference in the tool it comes from (a Jira issue
	// key); a re-import finds the item by it and updates it.
	Key         string                `json:"key,omitempty"`
	Kind        string                `json:"kind"`
	Type        northstar.StoryType   `json:"type,omitempty"`
	SourceType  string                `json:"source_type,omitempty"`
	Title       string                `json:"title"`
	Description string                `json:"description,omitempty"`
	Persona     string                `json:"persona,omitempty"`
	Want        string                `json:"want,omitempty"`
	Benefit     string                `json:"benefit,omitempty"`
	Status      northstar.StoryStatus `json:"status"`
	// FeatureStatus, when set, is a feature's own status (from an
	// export); otherwise a feature's status follows Status.
	FeatureStatus northstar.FeatureStatus `json:"feature_status,omitempty"`
	// SourceStatus is the status as the file names it.
	SourceStatus string `json:"source_status,omitempty"`
	Priority     string `json:"priority,omitempty"`
	// Assignee and Reporter are as the file gives them: an e-mail address
	// or a name; the app matches them to users.
	Assignee string     `json:"assignee,omitempty"`
	Reporter string     `json:"reporter,omitempty"`
	Created  *time.Time `json:"created,omitempty"`
	Updated  *time.Time `json:"updated,omitempty"`
	Labels   []string   `json:"labels,omitempty"`
	// Points is the estimate on Northstar's scale; RawPoints is the value
	// the file gives, kept as it is.
	Points    *int     `json:"points,omitempty"`
	RawPoints *float64 `json:"raw_points,omitempty"`
	// Sprints lists the sprints the item was in, oldest first; it belongs
	// to the last.
	Sprints     []string  `json:"sprints,omitempty"`
	Parent      string    `json:"parent,omitempty"` // key of the epic or parent item
	FixVersions []string  `json:"fix_versions,omitempty"`
	Comments    []Comment `json:"comments,omitempty"`
	Criteria    []string  `json:"criteria,omitempty"`
	// CriteriaMet says which criteria are met, by position (exports).
	CriteriaMet []bool `json:"criteria_met,omitempty"`
	// Tasks are a story's tasks (exports).
	Tasks []Task `json:"tasks,omitempty"`
}

// Task is a task of an imported story.
type Task struct {
	Text string `json:"text"`
	Done bool   `json:"done"`
}

// Comment is a comment on an imported item.
type Comment struct {
	At     *time.Time `json:"at,omitempty"`
	Author string     `json:"author,omitempty"`
	Text   string     `json:"text"`
}

// Count is a value and how often it occurs.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Result is a parsed file: the items it holds, the rows it could not use
// and what the caller may want to map differently.
type Result struct {
	Format string     `json:"format"`
	Header []string   `json:"columns"`
	Rows   int        `json:"rows"`
	Items  []*Item    `json:"-"`
	Errors []RowError `json:"errors"`
	// UnknownStatuses are statuses neither the known names nor a status
	// category placed; their items start as "new" unless mapped.
	UnknownStatuses []Count `json:"unknown_statuses"`
	// UnknownTypes are issue types imported as plain stories.
	UnknownTypes []Count `json:"unknown_types"`
	// Rounded counts estimates moved to the nearest value on the scale
	// (the original value is kept as RawPoints).
	Rounded int `json:"points_rounded"`
}

// Field names an item field a column can be mapped to.
type Field struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Multiple    bool   `json:"multiple"` // several columns of that name are all read
}

// Fields lists what a column can be mapped to, for the CLI's --map and the
// browser wizard.
var Fields = []Field{
	{"key", "external reference (e.g. Jira issue key); a re-import updates the item with that key", false},
	{"title", "title (required)", false},
	{"description", "description (Markdown, or Jira markup with --markup)", false},
	{"type", "story, bug, task, spike, or epic/feature for a feature", false},
	{"status", "status name; mapped by name or category", false},
	{"status_category", "Jira status category (To Do, In Progress, Done)", false},
	{"priority", "priority (kept as a label)", false},
	{"points", "story points", false},
	{"assignee", "assignee e-mail or name", false},
	{"reporter", "reporter e-mail or name (recorded as creator)", false},
	{"created", "creation time", false},
	{"updated", "last update time", false},
	{"labels", "labels (several columns, or separated by commas)", true},
	{"sprint", "sprint name (several columns: the last is current)", true},
	{"fix_version", "release name (several columns)", true},
	{"parent", "key of the epic or parent item", false},
	{"parent_id", "numeric id of the parent (Jira's Parent id)", false},
	{"id", "numeric id of the item (Jira's Issue id)", false},
	{"comment", `comment ("date;author;text" or text), several columns`, true},
	{"persona", "user-story persona (As a …)", false},
	{"want", "user-story want (I want …)", false},
	{"benefit", "user-story benefit (so that …)", false},
	{"criteria", "acceptance criteria, one per line", false},
}

// Mapping maps item fields to column names.
type Mapping map[string]string

func knownField(name string) bool {
	for _, f := range Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// ParseMapping reads "title=Summary,points=Story Points": field=column
// pairs separated by commas; a comma inside a column name is written \,.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			cur.WriteByte(s[i+1])
			i++
			continue
		}
		if s[i] == ',' {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		field, col, ok := strings.Cut(p, "=")
		field = strings.ToLower(strings.TrimSpace(field))
		col = strings.TrimSpace(col)
		if !ok || col == "" {
			return nil, fmt.Errorf("mapping %q: write field=column, e.g. title=Summary", p)
		}
		if !knownField(field) {
			return nil, fmt.Errorf("mapping %q: unknown field %q; fields are %s", p, field, fieldList())
		}
		m[field] = col
	}
	return m, nil
}

func fieldList() string {
	names := make([]string, len(Fields))
	for i, f := range Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// String writes the mapping back in ParseMapping's form, in field order.
func (m Mapping) String() string {
	var parts []string
	for _, f := range Fields {
		if c, ok := m[f.Name]; ok {
			parts = append(parts, f.Name+"="+strings.ReplaceAll(c, ",", `\,`))
		}
	}
	return strings.Join(parts, ",")
}

// jiraColumns are the names Jira's "Export → CSV (all fields)" uses for
// each field, with a few aliases seen in other exports.
var jiraColumns = map[string][]string{
	"key":             {"Issue key", "Key", "issuekey", "Issue Key"},
	"id":              {"Issue id", "Issue ID"},
	"title":           {"Summary", "title"},
	"description":     {"Description", "description"},
	"type":            {"Issue Type", "Issue type", "Type"},
	"status":          {"Status"},
	"status_category": {"Status Category"},
	"priority":        {"Priority"},
	"assignee":        {"Assignee"},
	"reporter":        {"Reporter"},
	"created":         {"Created"},
	"updated":         {"Updated"},
	"labels":          {"Labels"},
	"sprint":          {"Sprint"},
	"fix_version":     {"Fix Version/s", "Fix versions", "Fix Versions"},
	"parent":          {"Custom field (Epic Link)", "Epic Link", "Parent key", "Parent Key"},
	"parent_id":       {"Parent id", "Parent ID", "Parent"},
	"comment":         {"Comment", "Comments"},
}

// pointColumns are the usual names of the story-points custom field.
var pointColumns = []string{"Custom field (Story Points)", "Story Points", "Custom field (Story point estimate)",
	"Story point estimate", "storypoint", "storypoints", "Points"}

// Options tune how rows become items.
type Options struct {
	// PointsField names the column with story points; for Jira both
	// "Story Points" and "Custom field (Story Points)" match it.
	PointsField string
	// StatusMap maps status names (any case) to story statuses, before
	// the built-in names and categories.
	StatusMap map[string]northstar.StoryStatus
	// Markup says descriptions and comments are Jira wiki markup.
	Markup bool
	// Now is the clock for the date formats without a year; time.Now when
	// zero.
	Now time.Time
}

// ParseJira reads a table exported from Jira as CSV (all fields): repeated
// Labels, Sprint, Fix Version/s and Comment columns, wiki markup, Jira's
// date formats. Missing columns are simply not imported; only Summary is
// required.
func ParseJira(t *Table, opts Options) (*Result, error) {
	m, err := JiraMapping(t, opts.PointsField)
	if err != nil {
		return nil, err
	}
	return ParseJiraMapped(t, m, opts)
}

// JiraMapping finds Jira's columns in a table: the mapping ParseJira uses,
// which the browser wizard shows as its first choice.
func JiraMapping(t *Table, pointsField string) (Mapping, error) {
	m := Mapping{}
	for field, names := range jiraColumns {
		for _, n := range names {
			if c := t.Columns(n); len(c) > 0 {
				m[field] = t.Header[c[0]]
				break
			}
		}
	}
	pointNames := pointColumns
	if pointsField != "" {
		pointNames = []string{pointsField, "Custom field (" + pointsField + ")"}
	}
	for _, n := range pointNames {
		if c := t.Columns(n); len(c) > 0 {
			m["points"] = t.Header[c[0]]
			break
		}
	}
	if pointsField != "" && m["points"] == "" {
		return nil, &ErrFile{fmt.Sprintf("No column %q or %q for story points; the columns are: %s.",
			pointsField, "Custom field ("+pointsField+")", strings.Join(t.Header, ", "))}
	}
	if m["title"] == "" {
		return nil, &ErrFile{fmt.Sprintf("No Summary column; is this a Jira CSV export? The columns are: %s.", strings.Join(t.Header, ", "))}
	}
	return m, nil
}

// ParseJiraMapped reads a Jira export with the given column mapping (the
// browser wizard lets people change JiraMapping's choice): wiki markup is
// converted, unknown issue types become stories, priorities labels.
func ParseJiraMapped(t *Table, m Mapping, opts Options) (*Result, error) {
	cols, err := mappedColumns(t, m)
	if err != nil {
		return nil, err
	}
	opts.Markup = true
	return convert(t, "jira", cols, opts), nil
}

// ParseCSV reads a table with a column mapping. Every mapped column must
// exist; an empty mapping maps columns named like the fields (or like
// Jira's columns).
func ParseCSV(t *Table, m Mapping, opts Options) (*Result, error) {
	if len(m) == 0 {
		m = GuessMapping(t.Header)
	}
	cols, err := mappedColumns(t, m)
	if err != nil {
		return nil, err
	}
	return convert(t, "csv", cols, opts), nil
}

// mappedColumns finds the columns of a mapping: every column of the name
// for fields that take several, the first for the others.
func mappedColumns(t *Table, m Mapping) (map[string][]int, error) {
	cols := map[string][]int{}
	for field, col := range m {
		if !knownField(field) {
			return nil, &ErrFile{fmt.Sprintf("Unknown field %q; fields are %s.", field, fieldList())}
		}
		idx := t.Columns(col)
		if len(idx) == 0 {
			if n, err := strconv.Atoi(col); err == nil && n >= 1 && n <= len(t.Header) {
				idx = []int{n - 1} // a column by its number
			} else {
				return nil, &ErrFile{fmt.Sprintf("Column %q (mapped to %s) is not in the file; the columns are: %s.", col, field, strings.Join(t.Header, ", "))}
			}
		}
		if !isMultiple(field) {
			idx = idx[:1]
		}
		cols[field] = idx
	}
	if cols["title"] == nil {
		return nil, &ErrFile{"Map a column to title, e.g. --map title=Summary."}
	}
	return cols, nil
}

func isMultiple(field string) bool {
	for _, f := range Fields {
		if f.Name == field {
			return f.Multiple
		}
	}
	return false
}

// GuessMapping maps columns named like a field, or like Jira's column for
// it, to that field.
func GuessMapping(header []string) Mapping {
	m := Mapping{}
	find := func(name string) (string, bool) {
		for _, h := range header {
			if strings.EqualFold(h, name) || strings.EqualFold(strings.ReplaceAll(h, " ", "_"), name) {
				return h, true
			}
		}
		return "", false
	}
	for _, f := range Fields {
		if h, ok := find(f.Name); ok {
			m[f.Name] = h
			continue
		}
		for _, n := range jiraColumns[f.Name] {
			if h, ok := find(n); ok {
				m[f.Name] = h
				break
			}
		}
	}
	if _, ok := m["points"]; !ok {
		for _, n := range pointColumns {
			if h, ok := find(n); ok {
				m["points"] = h
				break
			}
		}
	}
	return m
}

// convert turns rows into items, field by field; a row with any bad field
// is reported and left out whole.
func convert(t *Table, format string, cols map[string][]int, opts Options) *Result {
	res := &Result{Format: format, Header: t.Header, Rows: len(t.Rows) + len(t.Problems), Errors: append([]RowError(nil), t.Problems...)}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	statusMap := map[string]northstar.StoryStatus{}
	for k, v := range opts.StatusMap {
		statusMap[strings.ToLower(strings.TrimSpace(k))] = v
	}
	unknownStatus, unknownType := map[string]int{}, map[string]int{}
	// Jira's Parent id names the parent by its numeric id.
	idToKey := map[string]string{}
	if cols["id"] != nil && cols["key"] != nil {
		for _, r := range t.Rows {
			if id, key := cleanField(r.Fields[cols["id"][0]]), cleanField(r.Fields[cols["key"][0]]); id != "" && key != "" {
				idToKey[id] = key
			}
		}
	}
	seen := map[string]int{}
	for _, r := range t.Rows {
		c := rowConv{row: r, header: t.Header, cols: cols}
		it := &Item{Line: r.Line, Kind: KindStory, Type: northstar.TypeStory}
		it.Key = c.one("key")
		if it.Key != "" {
			if first, dup := seen[strings.ToUpper(it.Key)]; dup {
				c.fail("key", fmt.Sprintf("duplicate key %s (first on line %d)", it.Key, first))
			} else {
				seen[strings.ToUpper(it.Key)] = r.Line
			}
			if utf8.RuneCountInString(it.Key) > 100 {
				c.fail("key", "the key is longer than 100 characters")
			}
		}
		it.Title = strings.Join(strings.Fields(c.one("title")), " ")
		if it.Title == "" {
			c.fail("title", "the title is empty")
		} else if n := utf8.RuneCountInString(it.Title); n > northstar.MaxStoryTitleLen {
			c.fail("title", fmt.Sprintf("the title is too long (%d characters, at most %d)", n, northstar.MaxStoryTitleLen))
		}
		if s := c.one("type"); s != "" {
			it.SourceType = s
			kind, typ, known := MapType(s)
			if !known {
				if format == "csv" {
					c.fail("type", fmt.Sprintf("type %q is not story, bug, task, spike, epic or feature", s))
				} else {
					unknownType[s]++
				}
			}
			it.Kind, it.Type = kind, typ
		}
		if it.Kind == KindFeature && utf8.RuneCountInString(it.Title) > northstar.MaxTitleLen {
			c.fail("title", fmt.Sprintf("a feature's title is at most %d characters", northstar.MaxTitleLen))
		}
		desc := c.raw("description")
		if opts.Markup {
			desc = WikiToMarkdown(desc)
		}
		it.Description = strings.TrimSpace(desc)
		if n := utf8.RuneCountInString(it.Description); n > northstar.MaxMarkdownLen {
			c.fail("description", fmt.Sprintf("the description is too long (%d characters, at most %d)", n, northstar.MaxMarkdownLen))
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"persona", &it.Persona}, {"want", &it.Want}, {"benefit", &it.Benefit}} {
			*f.v = c.one(f.name)
			if utf8.RuneCountInString(*f.v) > northstar.MaxTemplateLen {
				c.fail(f.name, fmt.Sprintf("at most %d characters", northstar.MaxTemplateLen))
			}
		}
		it.SourceStatus = c.one("status")
		st, known := MapStatus(it.SourceStatus, c.one("status_category"), statusMap)
		if !known && it.SourceStatus != "" {
			unknownStatus[it.SourceStatus]++
		}
		it.Status = st
		it.Priority = c.one("priority")
		it.Assignee, it.Reporter = c.one("assignee"), c.one("reporter")
		for _, f := range []struct {
			name string
			v    **time.Time
		}{{"created", &it.Created}, {"updated", &it.Updated}} {
			if s := c.one(f.name); s != "" {
				tm, err := ParseTime(s, opts.Now)
				if err != nil {
					c.fail(f.name, err.Error())
				} else {
					*f.v = &tm
				}
			}
		}
		if s := c.one("points"); s != "" {
			raw, pts, rounded, err := ParsePoints(s)
			if err != nil {
				c.fail("points", err.Error())
			} else {
				it.RawPoints, it.Points = &raw, &pts
				if rounded {
					res.Rounded++
				}
			}
		}
		for _, s := range c.all("fix_version") {
			if utf8.RuneCountInString(s) > northstar.MaxNameLen {
				c.fail("fix_version", fmt.Sprintf("the release name is longer than %d characters", northstar.MaxNameLen))
			}
			it.FixVersions = appendNew(it.FixVersions, s)
		}
		var labels []string
		for _, v := range c.all("labels") {
			labels = append(labels, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' })...)
		}
		if it.Priority != "" && format == "jira" {
			labels = append(labels, "priority:"+strings.ToLower(strings.ReplaceAll(it.Priority, " ", "-")))
		}
		if it.Kind == KindStory {
			// Stories have no release of their own: a label keeps it.
			for _, v := range it.FixVersions {
				labels = append(labels, ReleaseLabel(v))
			}
		}
		if l, err := northstar.NormalizeLabels(labels); err != nil {
			c.fail("labels", strings.TrimSuffix(northstar.ErrorMessage(err), "."))
		} else {
			it.Labels = l
		}
		for _, s := range c.all("sprint") {
			if utf8.RuneCountInString(s) > northstar.MaxNameLen {
				c.fail("sprint", fmt.Sprintf("the sprint name is longer than %d characters", northstar.MaxNameLen))
			}
			it.Sprints = appendNew(it.Sprints, s)
		}
		it.Parent = c.one("parent")
		if it.Parent == "" {
			if id := c.one("parent_id"); id != "" {
				if k, ok := idToKey[id]; ok {
					it.Parent = k
				} else if _, err := strconv.Atoi(id); err != nil {
					it.Parent = id // a key, not an id
				}
			}
		}
		if strings.EqualFold(it.Parent, it.Key) {
			it.Parent = ""
		}
		for _, s := range c.all("comment") {
			cm := ParseComment(s, opts.Now)
			if opts.Markup {
				cm.Text = WikiToMarkdown(cm.Text)
			}
			if cm.Text == "" {
				continue
			}
			if utf8.RuneCountInString(cm.Text) > northstar.MaxMarkdownLen {
				c.fail("comment", "the comment is too long")
			}
			it.Comments = append(it.Comments, cm)
		}
		if s := c.raw("criteria"); s != "" {
			for _, l := range strings.Split(s, "\n") {
				l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-*•"))
				if l == "" {
					continue
				}
				if utf8.RuneCountInString(l) > northstar.MaxCriterionLen {
					c.fail("criteria", fmt.Sprintf("a criterion is longer than %d characters", northstar.MaxCriterionLen))
				}
				it.Criteria = append(it.Criteria, l)
			}
			if len(it.Criteria) > northstar.MaxCriteria {
				c.fail("criteria", fmt.Sprintf("at most %d criteria", northstar.MaxCriteria))
			}
		}
		if len(c.errs) > 0 {
			res.Errors = append(res.Errors, c.errs...)
			continue
		}
		res.Items = append(res.Items, it)
	}
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	res.UnknownStatuses, res.UnknownTypes = counts(unknownStatus), counts(unknownType)
	return res
}

// ReleaseLabel is the label that names a story's fix version: stories
// have no release of their own (features do).
func ReleaseLabel(version string) string {
	l := "release:" + strings.Join(strings.FieldsFunc(version, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), "-")
	if utf8.RuneCountInString(l) > northstar.MaxLabelLen {
		l = string([]rune(l)[:northstar.MaxLabelLen])
	}
	return l
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return list
		}
	}
	return append(list, s)
}

func counts(m map[string]int) []Count {
	out := []Count{}
	for v, n := range m {
		out = append(out, Count{v, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// rowConv reads the mapped fields of one row and collects its errors.
type rowConv struct {
	row    Row
	header []string
	cols   map[string][]int
	errs   []RowError
}

func (c *rowConv) one(field string) string {
	idx := c.cols[field]
	if len(idx) == 0 {
		return ""
	}
	s := cleanField(c.row.Fields[idx[0]])
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		c.fail(field, "the value is not valid UTF-8 text")
		return ""
	}
	return s
}

// raw is one without trimming inner lines: descriptions keep their shape.
func (c *rowConv) raw(field string) string {
	idx := c.cols[field]
	if len(idx) == 0 {
		return ""
	}
	return cleanField(c.row.Fields[idx[0]])
}

func (c *rowConv) all(field string) []string {
	var out []string
	for _, i := range c.cols[field] {
		if s := cleanField(c.row.Fields[i]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *rowConv) fail(field, reason string) {
	col := field
	if idx := c.cols[field]; len(idx) > 0 {
		col = c.header[idx[0]]
	}
	c.errs = append(c.errs, RowError{Line: c.row.Line, Column: col, Reason: reason})
}

// MapType maps an issue type to a kind and story type. Epics (and
// "feature") become features; Story, Bug, Task, Sub-task and Spike become
// stories of that type; other types become plain stories and known is
// false.
func MapType(s string) (kind string, typ northstar.StoryType, known bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "epic", "feature", "initiative":
		return KindFeature, "", true
	case "story", "user story", "new feature", "improvement", "enhancement", "":
		return KindStory, northstar.TypeStory, true
	case "bug", "defect":
		return KindStory, northstar.TypeBug, true
	case "task", "sub-task", "subtask", "technical task", "sub task", "chore":
		return KindStory, northstar.TypeTask, true
	case "spike", "research":
		return KindStory, northstar.TypeSpike, true
	}
	return KindStory, northstar.TypeStory, false
}

// statusNames maps common workflow status names to story statuses.
var statusNames = map[string]northstar.StoryStatus{}

func init() {
	for st, names := range map[northstar.StoryStatus][]string{
		northstar.StatusNew: {"new", "open", "to do", "todo", "backlog", "reopened", "created", "triage", "needs triage",
			"proposed", "on hold", "waiting", "pending", "icebox"},
		northstar.StatusReady: {"ready", "selected for development", "ready for development", "accepted", "planned",
			"refined", "groomed", "ready for work"},
		northstar.StatusInProgress: {"in progress", "in_progress", "in-progress", "in development", "development",
			"doing", "active", "started", "coding", "implementing"},
		northstar.StatusInReview: {"in review", "in_review", "review", "code review", "in qa", "qa", "testing",
			"in testing", "verification", "ready for review", "awaiting review", "patch available", "reviewable",
			"ready for qa", "under review", "ready to test", "verify"},
		northstar.StatusDone: {"done", "closed", "resolved", "complete", "completed", "fixed", "released", "deployed",
			"finished", "won't fix", "won't do", "duplicate", "cannot reproduce", "invalid", "verified"},
	} {
		for _, n := range names {
			statusNames[n] = st
		}
	}
}

// MapStatus maps a status name, or else its Jira status category ("To
// Do", "In Progress", "Done"), to a story status. Unknown statuses give
// "new" and known false; an empty status is "new" and known.
func MapStatus(name, category string, overrides map[string]northstar.StoryStatus) (northstar.StoryStatus, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if st, ok := overrides[n]; ok && st.Valid() {
		return st, true
	}
	if n == "" {
		return northstar.StatusNew, true
	}
	if st, ok := statusNames[n]; ok {
		return st, true
	}
	if st := northstar.StoryStatus(n); st.Valid() {
		return st, true
	}
	switch strings.ToLower(strings.TrimSpace(category)) {
	case "to do", "new", "todo":
		return northstar.StatusNew, true
	case "in progress", "indeterminate":
		return northstar.StatusInProgress, true
	case "done", "complete":
		return northstar.StatusDone, true
	}
	return northstar.StatusNew, false
}

// ParsePoints reads an estimate ("5", "3.0", "0,5") and places it on the
// point scale: the nearest value, the larger on a tie. rounded reports
// whether it moved.
func ParsePoints(s string) (raw float64, points int, rounded bool, err error) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", "."), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, 0, false, fmt.Errorf("%q is not a number", s)
	}
	if v < 0 {
		return 0, 0, false, fmt.Errorf("points cannot be negative (%s)", s)
	}
	if v > 1e6 {
		return 0, 0, false, fmt.Errorf("points %s are out of range", s)
	}
	best := northstar.PointScale[0]
	for _, p := range northstar.PointScale {
		if math.Abs(float64(p)-v) <= math.Abs(float64(best)-v) {
			best = p
		}
	}
	return v, best, float64(best) != v, nil
}

// timeLayouts are the time formats Jira and spreadsheets write, tried in
// order. Jira's default is "12/Mar/24 3:04 PM".
var timeLayouts = []string{
	"02/Jan/06 3:04 PM", "2/Jan/06 3:04 PM", "02/Jan/06 15:04", "02/Jan/2006 3:04 PM", "2/Jan/2006 3:04 PM",
	"02/Jan/2006 15:04", "02/Jan/06", "02/Jan/2006",
	"02/Jan/06 3:04 pm", "2/Jan/06 3:04 pm",
	time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05",
	"2006-01-02 15:04", "2006-01-02", "2006/01/02 15:04", "2006/01/02",
	"02.01.2006 15:04", "02.01.2006", "Jan 2, 2006 3:04 PM", "2 Jan 2006 15:04", "2 Jan 2006",
	"01/02/2006 15:04", "01/02/2006",
}

// ParseTime reads a time in one of Jira's and spreadsheets' formats; times
// without a zone are UTC.
func ParseTime(s string, _ time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1e13 {
		if n > 1e11 {
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (e.g. 12/Mar/24 3:04 PM or 2024-03-12T15:04:00Z)", s)
}

// ParseComment reads Jira's "12/Mar/24 3:04 PM;jsmith;text" comment cell;
// a cell not in that form is all text.
func ParseComment(s string, now time.Time) Comment {
	parts := strings.SplitN(s, ";", 3)
	if len(parts) == 3 {
		if t, err := ParseTime(parts[0], now); err == nil {
			return Comment{At: &t, Author: strings.TrimSpace(parts[1]), Text: strings.TrimSpace(parts[2])}
		}
	}
	return Comment{Text: strings.TrimSpace(s)}
}
