package api

import (
	"encoding/json"
	"testing"
	"testing/fstest"
)

func TestMergeOpenAPI(t *testing.T) {
	parts := fstest.MapFS{
		"openapi/core.json": {Data: []byte(`{"openapi":"3.1.0","paths":{"/a":{"get":{}}},"components":{"schemas":{"A":{"type":"object"}}}}`)},
		"openapi/more.json": {Data: []byte(`{"paths":{"/b":{"post":{}}},"components":{"schemas":{"B":{"type":"string"}}}}`)},
	}
	b, err := mergeOpenAPI(parts)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]any
		Components struct{ Schemas map[string]any }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) != 2 || len(doc.Components.Schemas) != 2 {
		t.Errorf("merged %d paths and %d schemas, want 2 and 2", len(doc.Paths), len(doc.Components.Schemas))
	}
	parts["openapi/clash.json"] = &fstest.MapFile{Data: []byte(`{"components":{"schemas":{"A":{"type":"string"}}}}`)}
	if _, err := mergeOpenAPI(parts); err == nil {
		t.Error("a schema defined twice was merged")
	}
	if _, err := mergeOpenAPI(fstest.MapFS{"openapi/x.json": {Data: []byte(`{`)}}); err == nil {
		t.Error("broken JSON was merged")
	}
	// The embedded parts merge.
	if len(openAPIDocument) == 0 {
		t.Error("no OpenAPI document")
	}
}
