package northstar

import (
	"strings"
	"testing"
)

func TestValidateProductKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"BOOK", true}, {"AB", true}, {"A1", true}, {"EBOOK2026", true}, {"ABCDEFGHIJ", true},
		{"", false}, {"B", false}, {"ABCDEFGHIJK", false}, {"1BOOK", false}, {"book", false},
		{"BO-OK", false}, {"BO OK", false}, {"BÖÖK", false}, {"BOOK_", false},
	}
	for _, tt := range tests {
		err := ValidateProductKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateProductKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && err.Field != "key" {
			t.Errorf("ValidateProductKey(%q) names field %q, want key", tt.key, err.Field)
		}
	}
}

func TestNewProductValidate(t *testing.T) {
	tests := []struct {
		name  string
		in    NewProduct
		field string // "" when valid
	}{
		{"valid", NewProduct{Key: "BOOK", Name: "Books"}, ""},
		{"trims", NewProduct{Key: " BOOK ", Name: "  Books  "}, ""},
		{"no name", NewProduct{Key: "BOOK", Name: "   "}, "name"},
		{"long name", NewProduct{Key: "BOOK", Name: strings.Repeat("x", MaxNameLen+1)}, "name"},
		{"long name in runes is fine", NewProduct{Key: "BOOK", Name: strings.Repeat("é", MaxNameLen)}, ""},
		{"long description", NewProduct{Key: "BOOK", Name: "B", Description: strings.Repeat("x", MaxDescriptionLen+1)}, "description"},
		{"long vision", NewProduct{Key: "BOOK", Name: "B", Vision: strings.Repeat("x", MaxMarkdownLen+1)}, "vision"},
		{"bad stage", NewProduct{Key: "BOOK", Name: "B", Stage: "shipping"}, "stage"},
		{"NUL", NewProduct{Key: "BOOK", Name: "B\x00"}, "name"},
		{"invalid UTF-8", NewProduct{Key: "BOOK", Name: "B\xff"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Validate()
			if got := ErrorField(err); got != tt.field || (tt.field == "") != (err == nil) {
				t.Fatalf("Validate() = %v (field %q), want field %q", err, got, tt.field)
			}
			if err == nil && (in.Stage != StageConceived && tt.in.Stage == "") {
				t.Errorf("default stage = %q, want conceived", in.Stage)
			}
			if err == nil && (in.Key != strings.TrimSpace(in.Key) || in.Name != strings.TrimSpace(in.Name)) {
				t.Errorf("input not trimmed: %+v", in)
			}
		})
	}
}

func TestCheckStageChange(t *testing.T) {
	tests := []struct {
		from, to Stage
		note     string
		code     string
		field    string
	}{
		{StageConceived, StageDevelopment, "", "", ""},
		{StageConceived, StageRetired, "", "", ""}, // skipping ahead is allowed
		{StageGrowth, StageDecline, "", "", ""},
		{StageDecline, StageGrowth, "", EUNPROCESSABLE, "note"},
		{StageDecline, StageGrowth, "Relaunched with a new pricing plan", "", ""},
		{StageDecline, StageGrowth, "   ", EUNPROCESSABLE, "note"},
		{StageRetired, StageMaturity, "Back by popular demand", "", ""},
		{StageGrowth, StageGrowth, "", EUNPROCESSABLE, "stage"},
		{StageGrowth, "booming", "", EINVALID, "stage"},
		{StageGrowth, StageMaturity, strings.Repeat("n", MaxNoteLen+1), EINVALID, "note"},
	}
	for _, tt := range tests {
		note := tt.note
		err := CheckStageChange(tt.from, tt.to, &note)
		if code := ErrorCode(err); code != tt.code {
			t.Errorf("%s → %s (note %q): code %q, want %q (%v)", tt.from, tt.to, tt.note, code, tt.code, err)
		}
		if field := ErrorField(err); field != tt.field {
			t.Errorf("%s → %s: field %q, want %q", tt.from, tt.to, field, tt.field)
		}
	}
}

func TestStagesAreOrdered(t *testing.T) {
	want := "conceived, development, introduction, growth, maturity, decline, retired"
	if got := StageList(); got != want {
		t.Errorf("StageList() = %q, want %q", got, want)
	}
	for i, s := range Stages {
		if s.Index() != i || !s.Valid() {
			t.Errorf("%s: index %d, valid %v", s, s.Index(), s.Valid())
		}
	}
	if Stage("nope").Valid() {
		t.Error(`Stage("nope") is valid`)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada@Example.com", "ada@example.com"},
		{"  ada@example.com ", "ada@example.com"},
		{"ada", ""}, {"ada@localhost", ""}, {"Ada <ada@example.com>", ""}, {"", ""},
		{strings.Repeat("a", 250) + "@example.com", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" {
		t.Error("nil error has a code or message")
	}
	plain := errorString("boom: secret detail")
	if ErrorCode(plain) != EINTERNAL || strings.Contains(ErrorMessage(plain), "secret") {
		t.Errorf("unknown errors must be internal with a generic message, got %q %q", ErrorCode(plain), ErrorMessage(plain))
	}
	wrapped := wrap(FieldError("key", "bad key"))
	if ErrorCode(wrapped) != EINVALID || ErrorField(wrapped) != "key" {
		t.Errorf("wrapped application error lost: %v", wrapped)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

type wrapped struct{ err error }

func (w wrapped) Error() string { return "context: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func wrap(err error) error { return wrapped{err} }
