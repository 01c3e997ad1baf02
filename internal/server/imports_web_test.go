package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func init() {
	// The GET walk opens the wizard on an upload of the admin's.
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		t.Helper()
		seed.values["token"] = uploadForWizard(t, tm.admin, "BOOK", "jira", jiraExport)
	})
}

// uploadForWizard uploads a file to the import wizard and returns the
// wizard's token.
func uploadForWizard(t *testing.T, c *client, key, format, file string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("format", format)
	fw, _ := mw.CreateFormFile("file", "export.csv")
	fw.Write([]byte(file))
	mw.Close()
	res := c.post(t, "/products/"+key+"/import", body.Bytes(), "Content-Type", mw.FormDataContentType()).want(t, http.StatusSeeOther)
	loc := res.header.Get("Location")
	token, ok := strings.CutPrefix(loc, "/products/"+key+"/import/")
	if !ok || token == "" {
		t.Fatalf("upload redirected to %q", loc)
	}
	return token
}

func TestImportWizard(t *testing.T) {
	forEachEngine(t, testImportWizard)
}

func testImportWizard(t *testing.T, e *env) {
	tm := e.newTeam(t)
	tm.product(t, "SHOP", "Shop")
	po := e.login(t, "po@example.com").withHeader("Origin", e.url).withHeader("Sec-Fetch-Site", "same-origin")

	page := po.get(t, "/products/SHOP/import").want(t, http.StatusOK)
	if !strings.Contains(string(page.body), `enctype="multipart/form-data"`) {
		t.Errorf("no upload form: %s", short(page.body))
	}
	e.login(t, "dev@example.com").get(t, "/products/SHOP/import").want(t, http.StatusForbidden)

	// Not a CSV file: the form again, with the reason.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "x.bin")
	fw.Write([]byte("\x00\x01\x02"))
	mw.Close()
	res := po.post(t, "/products/SHOP/import", body.Bytes(), "Content-Type", mw.FormDataContentType()).want(t, http.StatusBadRequest)
	if !strings.Contains(string(res.body), "NUL") {
		t.Errorf("bad file page does not say why: %s", short(res.body))
	}

	token := uploadForWizard(t, po, "SHOP", "jira", jiraExport)
	wizard := "/products/SHOP/import/" + token
	html := string(po.get(t, wizard).want(t, http.StatusOK).body)
	for _, want := range []string{"Pay by card", `name="col:Summary"`, `<option value="title" selected>`, "Waiting for Vendor", `name="status:Waiting for Vendor"`} {
		if !strings.Contains(html, want) {
			t.Errorf("wizard page lacks %q", want)
		}
	}
	// Someone else cannot see the upload.
	tm.pm.get(t, wizard).want(t, http.StatusNotFound)

	form := url.Values{
		"col:Summary": {"title"}, "col:Issue key": {"key"}, "col:Issue Type": {"type"}, "col:Status": {"status"},
		"col:Custom field (Story Points)": {"points"}, "col:Custom field (Epic Link)": {"parent"}, "col:Description": {"description"},
		"col:Sprint": {"sprint"}, "status:Waiting for Vendor": {"in_review"}, "action": {"dry-run"},
	}
	before := e.snapshot(t)
	po.post(t, wizard, form).want(t, http.StatusSeeOther)
	html = string(po.get(t, wizard).want(t, http.StatusOK).body)
	e.wantUnchanged(t, before, "the wizard's dry run")
	if !strings.Contains(html, "Dry run: nothing was written") || !strings.Contains(html, "3 to create") {
		t.Errorf("dry run page: %s", short([]byte(html[strings.Index(html, "<main"):])))
	}

	// Two columns for one field: the choices again, with the reason.
	form.Set("col:Priority", "title")
	po.post(t, wizard, form).want(t, http.StatusSeeOther)
	if html = string(po.get(t, wizard).want(t, http.StatusOK).body); !strings.Contains(html, "chosen for two columns") {
		t.Error("a field chosen twice is not reported")
	}
	form.Del("col:Priority")

	form.Set("action", "run")
	po.post(t, wizard, form).want(t, http.StatusSeeOther)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := po.get(t, wizard).want(t, http.StatusOK)
		html = string(res.body)
		if !strings.Contains(html, "import-progress") {
			break
		}
		if res.header.Get("Refresh") == "" {
			t.Error("the progress page does not refresh itself")
		}
		if time.Now().After(deadline) {
			t.Fatal("the import did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(html, "<h2>Imported</h2>") {
		t.Errorf("report page: %s", short([]byte(html[strings.Index(html, "<main"):])))
	}
	stories := list[importedStory](t, tm.pm, "/api/v1/products/SHOP/stories")
	if len(stories) != 3 {
		t.Fatalf("%d stories after the wizard, want 3", len(stories))
	}
	for _, s := range stories {
		if s.Title == "Card declined" && s.Status != "in_review" {
			t.Errorf("the status chosen in the wizard was not used: %s", s.Status)
		}
	}

	// The JSON export downloads from the page.
	res = po.get(t, "/products/SHOP/export.json").want(t, http.StatusOK)
	if !strings.Contains(string(res.body), `"format":"northstar-export"`) || !strings.Contains(res.header.Get("Content-Disposition"), "SHOP-export.json") {
		t.Errorf("export download: %s %s", res.header, short(res.body))
	}
}
