package server_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// sampleBodies gives the matrix a request body that gets past a route's
// checks of its input's shape, so that the answer shows whether the
// principal may act: an API body built from the OpenAPI document's schema
// of the route (its required fields, each with a plausible value), and a
// form with the fields the HTML forms use.
type sampleBodies struct {
	api map[string]json.RawMessage // "POST /api/v1/…" → body
}

func newSampleBodies(t *testing.T, e *env) *sampleBodies {
	t.Helper()
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK).decode(t, &doc)
	g := &schemaSampler{schemas: doc.Components.Schemas}
	b := &sampleBodies{api: map[string]json.RawMessage{}}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				RequestBody struct {
					Content map[string]struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			c, ok := op.RequestBody.Content["application/json"]
			if !ok || c.Schema == nil {
				continue
			}
			v, err := json.Marshal(g.sample(c.Schema, 0))
			if err != nil {
				t.Fatalf("sample body of %s %s: %v", method, path, err)
			}
			b.api[strings.ToUpper(method)+" "+path] = v
		}
	}
	return b
}

// body returns the sample body of a route.
func (b *sampleBodies) body(method, pattern string) string {
	if method == "GET" || method == "DELETE" {
		return ""
	}
	if strings.HasPrefix(pattern, "/api/") {
		if v, ok := jsonBodies[method+" "+pattern]; ok {
			return v
		}
		if v, ok := b.api[method+" "+strings.TrimSuffix(pattern, "...}")]; ok {
			return string(v)
		}
		return "{}"
	}
	form := maps.Clone(sampleForm)
	maps.Copy(form, formFields[pattern])
	return form.Encode()
}

// jsonBodies replace the sample of the OpenAPI schema where it is not
// enough to reach the permission check.
var jsonBodies = map[string]string{
	"POST /api/v1/stories/bulk": `{"refs": ["{story}"], "status": "ready"}`,
}

// formFields are the fields a form needs besides sampleForm's: which of a
// route's actions to take, or what to act on. "{story}" and "{feature}"
// stand for the object of the variant's product (fixtures.fill).
var formFields = map[string]url.Values{
	"/products/{key}/releases/{id}/features":       {"ref": {"{feature}"}},
	"/sprints/{id}/stories":                        {"ref": {"{story}"}},
	"/products/{key}/feedback/{feedback}/insights": {"feature": {"{feature}"}},
	"/objectives":                                {"status": {"on_track"}},
	"/products/{key}/objectives":                 {"status": {"on_track"}},
	"/objectives/{id}":                           {"status": {"on_track"}},
	"/objectives/{id}/key-results":               {"start": {"0"}, "target": {"10"}},
	"/objectives/{id}/key-results/{kr}":          {"start": {"0"}, "target": {"10"}},
	"/products/{key}/releases/{id}":              {"status": {"planned"}},
	"/products/{key}/poker/{id}":                 {"action": {"close"}},
	"/invitations":                               {"product": {"BOOK"}, "from": {"product"}},
	"/products/{key}/strategy":                   {"section": {"vision"}},
	"/objectives/{id}/key-results/{kr}/features": {"feature": {"{feature}"}},
}

// sampleQuery is the query string of the routes that need one.
var sampleQuery = map[string]string{
	"/api/v1/search":                       "q=matrix",
	"/api/v1/events":                       "product=BOOK",
	"/api/v1/products/{key}/forecast/date": "date=2027-01-29",
}

// sampleForm fills the fields the HTML forms ask for most.
var sampleForm = url.Values{
	"title": {"Matrix title"}, "name": {"Matrix name"}, "text": {"Matrix feedback text"},
	"body": {"Matrix comment"}, "description": {"Matrix description"}, "goal": {"Matrix goal"},
	"note": {"Matrix note"}, "reason": {"Matrix reason"}, "want": {"to check"},
	"email": {"matrix-new@matrix.test"}, "role": {"viewer"}, "stage": {"development"},
	"status": {"ready"}, "points": {"3"}, "value": {"3"}, "url": {publicHook},
	"vision": {"Matrix vision"}, "metric": {"Matrix metric"}, "unit": {"%"},
	"start": {"2026-01-01"}, "end": {"2026-12-31"}, "date": {"2026-06-01"},
	"position": {"top"}, "horizon": {"next"}, "importance": {"important"},
}

// schemaSampler builds a value for a JSON schema of the OpenAPI document.
type schemaSampler struct {
	schemas map[string]json.RawMessage
}

type schema struct {
	Ref        string                     `json:"$ref"`
	Type       any                        `json:"type"`
	Format     string                     `json:"format"`
	Enum       []any                      `json:"enum"`
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
	Items      json.RawMessage            `json:"items"`
	MinItems   int                        `json:"minItems"`
	Minimum    *float64                   `json:"minimum"`
	OneOf      []json.RawMessage          `json:"oneOf"`
	AnyOf      []json.RawMessage          `json:"anyOf"`
	AllOf      []json.RawMessage          `json:"allOf"`
}

func (g *schemaSampler) sample(raw json.RawMessage, depth int) any {
	var s schema
	if json.Unmarshal(raw, &s) != nil || depth > 6 {
		return nil
	}
	if s.Ref != "" {
		return g.sample(g.schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], depth+1)
	}
	for _, alt := range [][]json.RawMessage{s.OneOf, s.AnyOf, s.AllOf} {
		if len(alt) > 0 {
			return g.sample(alt[0], depth+1)
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	typ, _ := s.Type.(string)
	if types, ok := s.Type.([]any); ok && len(types) > 0 {
		typ, _ = types[0].(string)
	}
	switch typ {
	case "object":
		out := map[string]any{}
		for _, name := range s.Required {
			out[name] = g.field(name, s.Properties[name], depth)
		}
		// A change (PATCH) requires nothing but must change something:
		// its title or name, or else its first field.
		if len(out) == 0 && len(s.Properties) > 0 {
			names := slices.Sorted(maps.Keys(s.Properties))
			name := names[0]
			for _, n := range []string{"name", "title"} {
				if _, ok := s.Properties[n]; ok {
					name = n
				}
			}
			out[name] = g.field(name, s.Properties[name], depth)
		}
		return out
	case "array":
		n := max(s.MinItems, 1)
		items := make([]any, n)
		for i := range items {
			items[i] = g.sample(s.Items, depth+1)
		}
		return items
	case "integer", "number":
		if s.Minimum != nil && *s.Minimum > 1 {
			return *s.Minimum
		}
		return 1
	case "boolean":
		return false
	case "string":
		switch s.Format {
		case "date":
			return "2026-06-01"
		case "date-time":
			return "2026-06-01T10:00:00Z"
		case "email":
			return "matrix-new@matrix.test"
		case "uri", "url":
			return publicHook
		}
		return "Matrix"
	}
	return nil
}

// field samples a property, with a value its name asks for where the
// schema alone would give a nonsense one.
func (g *schemaSampler) field(name string, raw json.RawMessage, depth int) any {
	switch name {
	case "start":
		if strings.Contains(string(raw), "number") {
			return 0
		}
		return "2026-01-01"
	case "end":
		return "2026-01-14" // after start, and within a sprint's longest
	case "value":
		return 1
	case "target":
		return 10
	case "date":
		return "2026-06-01"
	case "email":
		return "matrix-new@matrix.test"
	case "url":
		return publicHook
	case "key":
		return "MTX"
	}
	if raw == nil {
		return "Matrix"
	}
	return g.sample(raw, depth+1)
}
