package northstar

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Portfolio views across every product a person may read: the products by
// lifecycle stage, the cross-product roadmap, the objectives roll-up and
// what shipped in a month.

// PortfolioProduct is a product on the stage board.
type PortfolioProduct struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Stage Stage  `json:"stage"`
	// Suggestion is the stage its first higher-is-better metric suggests,
	// "" when none; Disagrees flags a difference with the recorded stage.
	Suggestion Stage `json:"suggested_stage,omitempty"`
	Disagrees  bool  `json:"disagrees"`
}

// StageColumn is one stage of the board with its products.
type StageColumn struct {
	Stage    Stage               `json:"stage"`
	Products []*PortfolioProduct `json:"products"`
}

// PortfolioFeature is a feature on the cross-product roadmap.
type PortfolioFeature struct {
	ProductKey string        `json:"product"`
	Ref        string        `json:"ref"`
	Title      string        `json:"title"`
	Status     FeatureStatus `json:"status"`
	Horizon    Horizon       `json:"horizon"`
	Start      Date          `json:"start"`
	End        Date          `json:"end"`
	// Release is the release it is planned for, nil for none, and
	// ReleaseTarget that release's target date (zero without one).
	Release       *NamedRef `json:"release"`
	ReleaseTarget Date      `json:"release_target"`
}

// Portfolio is the head of product's Monday page.
type Portfolio struct {
	Board   []*StageColumn      `json:"board"`
	Roadmap []*PortfolioFeature `json:"roadmap"`
	// Releases are the releases with a target date, not yet released,
	// by product and date: the markers of the roadmap's timeline.
	Releases   []*Release   `json:"releases"`
	Objectives []*Objective `json:"objectives"`
}

// NewStageBoard puts products into a column per stage, in lifecycle order.
func NewStageBoard(ps []*PortfolioProduct) []*StageColumn {
	cols := make([]*StageColumn, len(Stages))
	for i, s := range Stages {
		cols[i] = &StageColumn{Stage: s, Products: []*PortfolioProduct{}}
	}
	for _, p := range ps {
		if i := p.Stage.Index(); i >= 0 {
			cols[i].Products = append(cols[i].Products, p)
		}
	}
	return cols
}

// ShippedFeature is a released feature in the digest.
type ShippedFeature struct {
	ProductKey  string    `json:"product"`
	ProductName string    `json:"product_name"`
	Ref         string    `json:"ref"`
	Title       string    `json:"title"`
	Release     string    `json:"release"`
	At          time.Time `json:"shipped_at"`
	Note        string    `json:"release_note"`
	Told        int       `json:"told"`
}

// ShippedDigest is what shipped in a month, by product.
type ShippedDigest struct {
	Month    string            `json:"month"` // 2026-11
	Features []*ShippedFeature `json:"features"`
	Markdown string            `json:"markdown"`
}

// ParseMonth reads a month like 2026-11; "" is the month of now.
func ParseMonth(s string, now time.Time) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	}
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, FieldError("month", "month must be like 2026-11.")
	}
	return t, nil
}

// NewShippedDigest keeps the features shipped in the month starting at
// month, by product then date, and writes them as Markdown for a
// newsletter.
func NewShippedDigest(month time.Time, all []*ShippedFeature) *ShippedDigest {
	end := month.AddDate(0, 1, 0)
	d := &ShippedDigest{Month: month.Format("2006-01"), Features: []*ShippedFeature{}}
	for _, f := range all {
		if !f.At.Before(month) && f.At.Before(end) {
			d.Features = append(d.Features, f)
		}
	}
	slices.SortFunc(d.Features, func(a, b *ShippedFeature) int {
		if c := strings.Compare(a.ProductName, b.ProductName); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "# What shipped in %s\n", month.Format("January 2006"))
	if len(d.Features) == 0 {
		b.WriteString("\nNothing shipped this month.\n")
	}
	product := ""
	for _, f := range d.Features {
		if f.ProductName != product {
			product = f.ProductName
			fmt.Fprintf(&b, "\n## %s\n\n", mdEscape(product))
		}
		fmt.Fprintf(&b, "- **%s** (%s, %s", mdEscape(f.Title), f.Ref, f.At.Format("2 January"))
		if f.Release != "" {
			fmt.Fprintf(&b, ", release %s", mdEscape(f.Release))
		}
		b.WriteString(")")
		if note := strings.TrimSpace(f.Note); note != "" {
			b.WriteString(" — " + strings.Join(strings.Fields(note), " "))
		}
		b.WriteString("\n")
	}
	d.Markdown = b.String()
	return d
}

// mdEscape keeps a title from turning into Markdown markup.
func mdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "#", `\#`, "<", `\<`)
	return r.Replace(s)
}
