package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// The OpenAPI document is kept in parts, one per area of the API
// (openapi/*.json), and merged when the server starts. core.json holds the
// document's head; the other parts add paths and component schemas. Two
// parts defining the same path or schema are an error, found at start.
//
//go:embed openapi/*.json
var openAPIParts embed.FS

// openAPIDocument is the merged document, served at /api/v1/openapi.json.
var openAPIDocument = mustMergeOpenAPI()

func mustMergeOpenAPI() []byte {
	b, err := mergeOpenAPI(openAPIParts)
	if err != nil {
		panic(err)
	}
	return b
}

func mergeOpenAPI(parts fs.FS) ([]byte, error) {
	names, err := fs.Glob(parts, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc map[string]any
	for _, name := range names {
		b, err := fs.ReadFile(parts, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("openapi part %s: %w", name, err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
		if err := mergeInto(doc, part, name); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// mergeInto adds a part to the document: maps merge key by key, and a
// key defined twice with different values is an error.
func mergeInto(doc, part map[string]any, name string) error {
	for k, v := range part {
		have, ok := doc[k]
		if !ok {
			doc[k] = v
			continue
		}
		hm, hok := have.(map[string]any)
		vm, vok := v.(map[string]any)
		if hok && vok && (k == "paths" || k == "components" || k == "schemas" || k == "responses" || k == "securitySchemes") {
			if err := mergeInto(hm, vm, name); err != nil {
				return err
			}
			continue
		}
		a, _ := json.Marshal(have)
		b, _ := json.Marshal(v)
		if string(a) != string(b) {
			return fmt.Errorf("openapi part %s defines %q again", name, k)
		}
	}
	return nil
}
