package northstar

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	p := func(n int) *int { return &n }
	before := &Story{Title: "Scan", Points: p(3), Status: StatusNew, Labels: []string{"a"}, Version: 1}
	snap := Snapshot(before)
	after := *before
	after.Title, after.Points, after.Labels, after.Version = "Scan a barcode", nil, []string{"a", "b"}, 2
	got := Diff(snap, &after)
	var fields []string
	for _, c := range got {
		fields = append(fields, c.Field)
	}
	if want := []string{"labels", "points", "title"}; !slices.Equal(fields, want) {
		t.Fatalf("changed fields = %v, want %v (version is bookkeeping)", fields, want)
	}
	if got[2].Old != "Scan" || got[2].New != "Scan a barcode" {
		t.Errorf("title change = %+v", got[2])
	}
	if got[1].New != nil || got[1].Old != float64(3) {
		t.Errorf("points change = %+v", got[1])
	}
	created := Diff(nil, &Product{Key: "BOOK", Name: "Books"})
	if len(created) != 2 {
		t.Errorf("creation lists %v, want key and name only (empty fields left out)", created)
	}
	if len(Diff(before, before)) != 0 {
		t.Error("no change gave a diff")
	}
}

func TestMentions(t *testing.T) {
	got := Mentions("Hi @pm and @Dev@example.com, see ana@example.com. Thanks @pm.")
	if want := []string{"pm", "dev@example.com"}; !slices.Equal(got, want) {
		t.Errorf("mentions = %q, want %q", got, want)
	}
	if len(Mentions("no mentions here, mail me@host.org")) != 0 {
		t.Error("an e-mail address was taken for a mention")
	}
}

func TestWebhookInput(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://example.com/hook", true}, {"http://example.com", true}, {"ftp://example.com", false},
		{"javascript:alert(1)", false}, {"https://user:pw@example.com", false}, {"", false}, {"example.com/hook", false},
	} {
		in := WebhookInput{URL: tc.url}
		if err := in.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	in := WebhookInput{URL: "https://example.com", Events: []string{"story.updated", "feature.*"}}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	w := Webhook{Events: in.Events}
	if !w.Wants("story.updated") || !w.Wants("feature.created") || w.Wants("story.created") {
		t.Error("event matching is wrong")
	}
}
