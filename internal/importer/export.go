package importer

import (
	"encoding/json"
	"errors"
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
	// ExternalAssignee and ExternalReporter are people an import named
	// who were no members: kept as text.
	ExternalAssignee string `json:"external_assignee,omitempty"`
	ExternalReporter string `json:"external_reporter,omitempty"`
	Sprint           string `json:"sprint,omitempty"`
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
// recreates the product, its members, releases, sprints, features,
// stories and comments.
type ExportedProduct struct {
	Product  northstar.Product   `json:"product"`
	Members  []northstar.Member  `json:"members"`
	Features []ExportedFeature   `json:"features"`
	Stories  []ExportedStory     `json:"stories"`
	Releases []northstar.Release `json:"releases"`
	Sprints  []northstar.Sprint  `json:"sprints"`
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
	c := NewExportConverter()
	for i := range p.Comments {
		c.AddComment(&p.Comments[i])
	}
	for i := range p.Features {
		if it := c.Feature(&p.Features[i]); it != nil {
			res.Items = append(res.Items, it)
		}
	}
	for i := range p.Stories {
		it, bad := c.Story(&p.Stories[i])
		if bad != nil {
			res.Errors = append(res.Errors, *bad)
		} else if it != nil {
			res.Items = append(res.Items, it)
		}
	}
	return res
}

// ExportConverter turns one product's exported features and stories into
// items, one at a time: a large export is imported in chunks. Features
// come first in an export, so stories find their feature's key.
type ExportConverter struct {
	featureKeys map[string]string
	comments    map[string][]Comment
	line        int
}

// NewExportConverter returns a converter for one product.
func NewExportConverter() *ExportConverter {
	return &ExportConverter{featureKeys: map[string]string{}, comments: map[string][]Comment{}}
}

// AddComment keeps a comment for the item it is on; add comments before
// converting their items.
func (c *ExportConverter) AddComment(ec *ExportedComment) {
	at := ec.Created
	c.comments[ec.ItemRef] = append(c.comments[ec.ItemRef], Comment{At: &at, Author: ec.Author, Text: ec.Body})
}

// Feature converts an exported feature.
func (c *ExportConverter) Feature(f *ExportedFeature) *Item {
	c.line++
	if f.Feature == nil {
		return nil
	}
	key := firstNonEmpty(f.ExternalRef, f.Ref)
	c.featureKeys[f.Ref] = key
	created, updated := f.CreatedAt, f.UpdatedAt
	it := &Item{Line: c.line, Key: key, Kind: KindFeature, Title: f.Title, Description: f.Problem,
		FeatureStatus: f.Status, Status: northstar.StatusNew, Created: &created, Updated: &updated, Comments: c.comments[f.Ref]}
	if f.Release != nil {
		it.FixVersions = []string{f.Release.Name}
	}
	if f.Owner != nil {
		it.Assignee = f.Owner.Email
	}
	if f.CreatedBy != nil {
		it.Reporter = f.CreatedBy.Email
	}
	return it
}

// Story converts an exported story, or says why it cannot be imported.
func (c *ExportConverter) Story(s *ExportedStory) (*Item, *RowError) {
	c.line++
	if s.Story == nil {
		return nil, nil
	}
	if !s.Type.Valid() || !s.Status.Valid() || strings.TrimSpace(s.Title) == "" {
		return nil, &RowError{Line: c.line, Ref: s.Ref, Reason: "the story has no title, or an unknown type or status"}
	}
	created, updated := s.CreatedAt, s.UpdatedAt
	it := &Item{Line: c.line, Key: firstNonEmpty(s.ExternalRef, s.Ref), Kind: KindStory, Type: s.Type, Title: s.Title,
		Description: s.Description, Persona: s.Persona, Want: s.Want, Benefit: s.Benefit, Status: s.Status, Points: s.Points,
		Labels: s.Labels, Created: &created, Updated: &updated, Comments: c.comments[s.Ref]}
	if s.ExternalPoints != nil {
		it.RawPoints = s.ExternalPoints
	} else if s.Points != nil {
		raw := float64(*s.Points)
		it.RawPoints = &raw
	}
	it.Assignee, it.Reporter = s.ExternalAssignee, s.ExternalReporter
	if s.Assignee != nil {
		it.Assignee = s.Assignee.Email
	}
	if s.CreatedBy != nil && it.Reporter == "" {
		it.Reporter = s.CreatedBy.Email
	}
	if s.Feature != nil {
		it.Parent = firstNonEmpty(c.featureKeys[s.Feature.Ref], s.Feature.Ref)
	}
	for _, t := range s.Tasks {
		it.Tasks = append(it.Tasks, Task{Text: t.Text, Done: t.Done})
	}
	if s.Sprint != "" {
		it.Sprints = []string{s.Sprint}
	}
	for _, cr := range s.Criteria {
		it.Criteria = append(it.Criteria, cr.Text)
		it.CriteriaMet = append(it.CriteriaMet, cr.Met)
	}
	return it, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// ExportVisitor receives the parts of an export as WalkExport reads them;
// nil functions skip their part.
type ExportVisitor struct {
	Product    func(p *northstar.Product) error
	Feature    func(f *ExportedFeature) error
	Story      func(s *ExportedStory) error
	Comment    func(c *ExportedComment) error
	Members    func(ms []northstar.Member) error
	Releases   func(rs []northstar.Release) error
	Sprints    func(ss []northstar.Sprint) error
	EndProduct func(p *northstar.Product) error
}

// WalkExport reads an export as a stream, one feature, story or comment at
// a time, so that memory stays bounded however large the export. It
// checks the header first: another format, or a newer version, stops it
// with a message.
func WalkExport(r io.Reader, v ExportVisitor) error {
	dec := json.NewDecoder(r)
	bad := func(err error) error {
		return &ErrFile{fmt.Sprintf("The file is not a Northstar export: %v.", err)}
	}
	if err := expectDelim(dec, '{'); err != nil {
		return bad(err)
	}
	var h ExportHeader
	for dec.More() {
		name, err := objectKey(dec)
		if err != nil {
			return bad(err)
		}
		switch name {
		case "format":
			if err := dec.Decode(&h.Format); err != nil {
				return bad(err)
			}
			if h.Format != ExportFormat {
				return &ErrFile{fmt.Sprintf("The file is not a Northstar export (format %q, want %q).", h.Format, ExportFormat)}
			}
		case "version":
			if err := dec.Decode(&h.Version); err != nil {
				return bad(err)
			}
			if h.Version > ExportVersion {
				return &ErrFile{fmt.Sprintf("The export is of version %d, from a newer Northstar; this one reads version %d. Upgrade first.", h.Version, ExportVersion)}
			}
		case "products":
			if h.Format != ExportFormat {
				return &ErrFile{"The file is not a Northstar export (no format before the products)."}
			}
			if err := walkProducts(dec, v); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad(err)
			}
		}
	}
	if h.Format != ExportFormat {
		return &ErrFile{"The file is not a Northstar export (it has no format)."}
	}
	return nil
}

func walkProducts(dec *json.Decoder, v ExportVisitor) error {
	bad := func(err error) error {
		var fe *ErrFile
		if errors.As(err, &fe) {
			return err
		}
		if isCallbackErr(err) {
			return err.(callbackErr).err
		}
		return &ErrFile{fmt.Sprintf("The export cannot be read: %v.", err)}
	}
	if err := expectDelim(dec, '['); err != nil {
		return bad(err)
	}
	for dec.More() {
		if err := expectDelim(dec, '{'); err != nil {
			return bad(err)
		}
		var p *northstar.Product
		for dec.More() {
			name, err := objectKey(dec)
			if err != nil {
				return bad(err)
			}
			switch name {
			case "product":
				p = &northstar.Product{}
				if err := dec.Decode(p); err != nil {
					return bad(err)
				}
				if v.Product != nil {
					if err := v.Product(p); err != nil {
						return err
					}
				}
			case "features":
				err = eachElement(dec, func() error {
					var f ExportedFeature
					if err := dec.Decode(&f); err != nil {
						return err
					}
					if v.Feature == nil || f.Feature == nil {
						return nil
					}
					return callback(v.Feature(&f))
				})
			case "stories":
				err = eachElement(dec, func() error {
					var s ExportedStory
					if err := dec.Decode(&s); err != nil {
						return err
					}
					if v.Story == nil || s.Story == nil {
						return nil
					}
					return callback(v.Story(&s))
				})
			case "members":
				var ms []northstar.Member
				if err = dec.Decode(&ms); err == nil && v.Members != nil {
					if err := v.Members(ms); err != nil {
						return err
					}
				}
			case "releases":
				var rs []northstar.Release
				if err = dec.Decode(&rs); err == nil && v.Releases != nil {
					if err := v.Releases(rs); err != nil {
						return err
					}
				}
			case "sprints":
				var ss []northstar.Sprint
				if err = dec.Decode(&ss); err == nil && v.Sprints != nil {
					if err := v.Sprints(ss); err != nil {
						return err
					}
				}
			case "comments":
				err = eachElement(dec, func() error {
					var c ExportedComment
					if err := dec.Decode(&c); err != nil {
						return err
					}
					if v.Comment == nil {
						return nil
					}
					return callback(v.Comment(&c))
				})
			default:
				// Members, strategy, feedback, activity …: read one
				// element at a time and skip.
				err = skipValue(dec)
			}
			if err != nil {
				return bad(err)
			}
		}
		if _, err := dec.Token(); err != nil { // the product's }
			return bad(err)
		}
		if p != nil && v.EndProduct != nil {
			if err := v.EndProduct(p); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token() // ]
	if err != nil {
		return bad(err)
	}
	return nil
}

// callbackErr marks an error from a visitor, passed through as it is.
type callbackErr struct{ err error }

func (c callbackErr) Error() string { return c.err.Error() }

func callback(err error) error {
	if err == nil {
		return nil
	}
	return callbackErr{err}
}

func isCallbackErr(err error) bool {
	_, ok := err.(callbackErr)
	return ok
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("expected %q, found %v", d, t)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("expected a member name, found %v", t)
	}
	return s, nil
}

// eachElement calls fn for every element of the array that comes next; a
// null is an empty array.
func eachElement(dec *json.Decoder, fn func() error) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf("expected an array, found %v", t)
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// skipValue reads past the next value; arrays go element by element so
// a long one (the activity log) never sits in memory whole.
func skipValue(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	switch d {
	case '[':
		for dec.More() {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	case '{':
		for dec.More() {
			if _, err := objectKey(dec); err != nil {
				return err
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected %v", d)
	}
	_, err = dec.Token()
	return err
}
