package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/northstar-pm/northstar"
)

// Outcomes, not output: key results are linked to the features meant to
// move them, and each shipped feature carries the key result's value when
// it shipped, to set against the value now.
func TestKeyResultFeatures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebook subscription")
		o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win independent shops", "start": "2026-01-01", "end": "2026-12-31",
			"key_results": []map[string]any{{"name": "Paying shops", "unit": "shops", "start": 100, "target": 200}},
		}).want(t, http.StatusCreated))
		kr := o.KeyResults[0]
		base := fmt.Sprintf("/api/v1/objectives/%d/key-results/%d", o.ID, kr.ID)
		scan := decodeAs[apiFeature](t, tm.pm.post(t, "/api/v1/products/BOOK/features", map[string]string{"title": "Barcode scanning"}).want(t, http.StatusCreated))
		reorder := decodeAs[apiFeature](t, tm.pm.post(t, "/api/v1/products/BOOK/features", map[string]string{"title": "Reorder suggestions"}).want(t, http.StatusCreated))
		other := decodeAs[apiFeature](t, tm.pm.post(t, "/api/v1/products/EBOOK/features", map[string]string{"title": "Offline reading"}).want(t, http.StatusCreated))

		// Link both; linking again changes nothing.
		tm.pm.post(t, base+"/features", map[string]string{"feature": scan.Ref}).want(t, http.StatusOK)
		tm.pm.post(t, base+"/features", map[string]string{"feature": scan.Ref}).want(t, http.StatusOK)
		o = decodeAs[apiObjective](t, tm.pm.post(t, base+"/features", map[string]string{"feature": reorder.Ref}).want(t, http.StatusOK))
		if fs := o.KeyResults[0].Features; len(fs) != 2 || fs[0].Product != "BOOK" || fs[0].ReleasedAt != nil || fs[0].ValueAtRelease != nil {
			t.Fatalf("linked features = %+v, want two, not shipped", fs)
		}

		// 120 before the scanner ships, 150 after: the outcome shows both.
		tm.pm.post(t, base+"/check-ins", map[string]any{"value": 120}).want(t, http.StatusCreated)
		tm.pm.patch(t, "/api/v1/features/"+scan.Ref, map[string]string{"status": "released"}).want(t, http.StatusOK)
		o = decodeAs[apiObjective](t, tm.pm.post(t, base+"/check-ins", map[string]any{"value": 150}).want(t, http.StatusCreated))
		fs := o.KeyResults[0].Features
		if len(fs) != 2 || fs[0].Ref != scan.Ref || fs[0].ReleasedAt == nil || fs[0].ValueAtRelease == nil || *fs[0].ValueAtRelease != 120 || fs[1].Ref != reorder.Ref || fs[1].ReleasedAt != nil {
			t.Errorf("after the release: %+v, want %s shipped at 120 first, then %s", fs, scan.Ref, reorder.Ref)
		}
		if got := decodeAs[apiObjective](t, tm.viewer.get(t, fmt.Sprintf("/api/v1/objectives/%d", o.ID)).want(t, http.StatusOK)); len(got.KeyResults[0].Features) != 2 {
			t.Errorf("a viewer sees %d linked features, want 2", len(got.KeyResults[0].Features))
		}

		// Refusals: a feature of another product, unknown or malformed
		// refs, readers, and outsiders; nothing changes.
		tm.pm.post(t, base+"/features", map[string]string{"feature": other.Ref}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "feature")
		tm.pm.post(t, base+"/features", map[string]string{"feature": "BOOK-999"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "feature")
		tm.pm.post(t, base+"/features", map[string]string{"feature": "not a ref"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "feature")
		tm.pm.post(t, base+"/features", map[string]string{}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "feature")
		tm.po.post(t, base+"/features", map[string]string{"feature": scan.Ref}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		tm.outsider.post(t, base+"/features", map[string]string{"feature": scan.Ref}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.delete(t, base+"/features/"+scan.Ref).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// A company objective's key result takes any product's feature,
		// but shows it only to who may read that product.
		company := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives", map[string]any{
			"title": "Grow revenue", "start": "2026-01-01", "end": "2026-12-31",
			"key_results": []map[string]any{{"name": "Revenue", "unit": "k€", "start": 10, "target": 20}},
		}).want(t, http.StatusCreated))
		cbase := fmt.Sprintf("/api/v1/objectives/%d/key-results/%d", company.ID, company.KeyResults[0].ID)
		tm.pm.post(t, cbase+"/features", map[string]string{"feature": scan.Ref}).want(t, http.StatusOK)
		tm.pm.post(t, cbase+"/features", map[string]string{"feature": other.Ref}).want(t, http.StatusOK)
		tm.pm.delete(t, "/api/v1/products/BOOK/members/"+tm.viewer.email).want(t, http.StatusNoContent)
		tm.pm.setMember(t, "EBOOK", tm.viewer.email, "viewer")
		seen := decodeAs[apiObjective](t, tm.viewer.get(t, fmt.Sprintf("/api/v1/objectives/%d", company.ID)).want(t, http.StatusOK))
		if fs := seen.KeyResults[0].Features; len(fs) != 1 || fs[0].Ref != other.Ref {
			t.Errorf("a viewer of EBOOK only sees %+v on the company key result, want only %s", fs, other.Ref)
		}
		for _, c := range list[apiObjective](t, tm.viewer, "/api/v1/objectives") {
			for _, k := range c.KeyResults {
				for _, f := range k.Features {
					if f.Product == "BOOK" {
						t.Errorf("the company objectives list shows %s to a viewer of EBOOK only", f.Ref)
					}
				}
			}
		}

		// Unlinking; a second time is a 404.
		o = decodeAs[apiObjective](t, tm.pm.delete(t, base+"/features/"+reorder.Ref).want(t, http.StatusOK))
		if fs := o.KeyResults[0].Features; len(fs) != 1 || fs[0].Ref != scan.Ref {
			t.Errorf("after unlinking %s: %+v", reorder.Ref, fs)
		}
		tm.pm.delete(t, base+"/features/"+reorder.Ref).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}
