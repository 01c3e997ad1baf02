package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// ExportFormat names Northstar's full export; ExportVersion is the version
// of its layout this build writes and reads.
const (
	ExportFormat  = "northstar-export"
	ExportVersion = 1
)

// ExportHeader opens an export file.
type ExportHeader struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Northstar  string    `json:"northstar_version"`
	ExportedAt time.Time `json:"exported_at"`
}

// ExportedStory is a story as exported: the story and what an import kept
// on it.
type ExportedStory struct {
	*northstar.Story
	ExternalRef    string   `json:"external_ref,omitempty"`
	ExternalPoints *float64 `json:"external_points,omitempty"`
	Sprint         string   `json:"sprint,omitempty"`
}

// ExportedFeature is a feature as exported.
type ExportedFeature struct {
	*northstar.Feature
	ExternalRef string `json:"external_ref,omitempty"`
}

// ExportedComment is a comment as exported, on the item with ItemRef.
type ExportedComment struct {
	ItemKind string     `json:"item_kind"`
	ItemRef  string     `json:"item"`
	Author   string     `json:"author"`
	Body     string     `json:"body"`
	Created  time.Time  `json:"created_at"`
	Edited   *time.Time `json:"edited_at"`
}

// ExportedProduct is what an import reads back of one product. The export
// holds more (strategy, objectives, feedback, teams, activity); an import
// recreates the product, its features, stories, releases, sprints and
// comments.
type ExportedProduct struct {
	Product  northstar.Product   `json:"product"`
	Features []ExportedFeature   `json:"features"`
	Stories  []ExportedStory     `json:"stories"`
	Releases []northstar.Release `json:"releases"`
	Comments []ExportedComment   `json:"comments"`
}

// ExportFile is an export read back.
type ExportFile struct {
	ExportHeader
	Products []ExportedProduct `json:"products"`
}

// ReadExport reads a file written by "northstar export". A file from a
// newer version of Northstar, or not an export at all, is refused with a
// message that says so.
func ReadExport(r io.Reader) (*ExportFile, error) {
	dec := json.NewDecoder(r)
	var f ExportFile
	if err := dec.Decode(&f); err != nil {
		return nil, &ErrFile{fmt.Sprintf("The file is not a Northstar export (JSON): %v.", err)}
	}
	if f.Format != ExportFormat {
		return nil, &ErrFile{fmt.Sprintf("The file is not a Northstar export (format %q, want %q).", f.Format, ExportFormat)}
	}
	if f.Version > ExportVersion {
		return nil, &ErrFile{fmt.Sprintf("The export is of version %d, from a newer Northstar (%s); this one reads version %d. Upgrade first.",
			f.Version, f.Northstar, ExportVersion)}
	}
	return &f, nil
}

// Items turns an exported product back into items to import. An item's
// key is its external reference if it had one (so Jira keys survive the
// move) and else its ref in the exported installation.
func (p *ExportedProduct) Items() *Result {
	res := &Result{Format: "export", Rows: len(p.Features) + len(p.Stories), Errors: []RowError{},
		UnknownStatuses: []Count{}, UnknownTypes: []Count{}}
	keyOf := map[string]string{} // ref → key
	for _, f := range p.Features {
		if f.Feature == nil {
			continue
		}
		keyOf[f.Ref] = firstNonEmpty(f.ExternalRef, f.Ref)
	}
	for _, s := range p.Stories {
		if s.Story == nil {
			continue
		}
		keyOf[s.Ref] = firstNonEmpty(s.ExternalRef, s.Ref)
	}
	comments := map[string][]Comment{}
	for _, c := range p.Comments {
		at := c.Created
		comments[c.ItemRef] = append(comments[c.ItemRef], Comment{At: &at, Author: c.Author, Text: c.Body})
	}
	line := 0
	for _, f := range p.Features {
		line++
		if f.Feature == nil {
			continue
		}
		created, updated := f.CreatedAt, f.UpdatedAt
		it := &Item{Line: line, Key: keyOf[f.Ref], Kind: KindFeature, Title: f.Title, Description: f.Problem,
			FeatureStatus: f.Status, Status: northstar.StatusNew, Created: &created, Updated: &updated, Comments: comments[f.Ref]}
		if f.Release != nil {
			it.FixVersions = []string{f.Release.Name}
		}
		if f.Owner != nil {
			it.Assignee = f.Owner.Email
		}
		if f.CreatedBy != nil {
			it.Reporter = f.CreatedBy.Email
		}
		res.Items = append(res.Items, it)
	}
	for _, s := range p.Stories {
		line++
		if s.Story == nil {
			continue
		}
		created, updated := s.CreatedAt, s.UpdatedAt
		it := &Item{Line: line, Key: keyOf[s.Ref], Kind: KindStory, Type: s.Type, Title: s.Title, Description: s.Description,
			Persona: s.Persona, Want: s.Want, Benefit: s.Benefit, Status: s.Status, Points: s.Points, Labels: s.Labels,
			Created: &created, Updated: &updated, Comments: comments[s.Ref]}
		if s.ExternalPoints != nil {
			it.RawPoints = s.ExternalPoints
		} else if s.Points != nil {
			raw := float64(*s.Points)
			it.RawPoints = &raw
		}
		if s.Assignee != nil {
			it.Assignee = s.Assignee.Email
		}
		if s.CreatedBy != nil {
			it.Reporter = s.CreatedBy.Email
		}
		if s.Feature != nil {
			it.Parent = keyOf[s.Feature.Ref]
		}
		if s.Sprint != "" {
			it.Sprints = []string{s.Sprint}
		}
		for _, c := range s.Criteria {
			it.Criteria = append(it.Criteria, c.Text)
		}
		if !s.Type.Valid() || !s.Status.Valid() || strings.TrimSpace(s.Title) == "" {
			res.Errors = append(res.Errors, RowError{Line: line, Ref: s.Ref, Reason: "the story has no title, or an unknown type or status"})
			continue
		}
		res.Items = append(res.Items, it)
	}
	return res
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
