package cli

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/importer"
)

// importCmd imports a Jira CSV export, any CSV with a column mapping, or a
// Northstar export into the database.
type importCmd struct {
	env          Env
	db           dbFlags
	product      string
	file         string
	pointsField  string
	mapping      string
	statusMap    string
	markup       bool
	dryRun       bool
	allOrNothing bool
	batch        int
	as           string
	jsonOut      bool
	maxErrors    int
}

func (c *importCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	c.db.register(fs)
	fs.StringVar(&c.product, "product", "", "key of the product to import into (jira, csv); for export-file, only this product")
	fs.StringVar(&c.file, "file", "", "the file to import (- for standard input)")
	fs.StringVar(&c.pointsField, "points-field", "", `jira: the story-points column, e.g. "Story Points" (default: the usual names)`)
	fs.StringVar(&c.mapping, "map", "", `csv: field=column pairs, e.g. title=Summary,points=Story\ Points (default: columns named like fields)`)
	fs.StringVar(&c.statusMap, "status-map", "", `statuses to map, e.g. "Waiting for Vendor=in_review,Parked=new"`)
	fs.BoolVar(&c.markup, "markup", false, "csv: descriptions and comments are Jira wiki markup")
	fs.BoolVar(&c.dryRun, "dry-run", false, "report what the import would do and write nothing")
	fs.BoolVar(&c.allOrNothing, "all-or-nothing", false, "write everything in one transaction, or nothing if any row is bad")
	fs.IntVar(&c.batch, "batch", app.DefaultImportBatch, "items per transaction")
	fs.StringVar(&c.as, "as", "", "import as this user (e-mail; default: the first admin)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	fs.IntVar(&c.maxErrors, "max-errors", 50, "row errors to print (all are in --json)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  northstar import jira --product KEY --file F [--points-field "Story Points"] [--dry-run] [--all-or-nothing]
  northstar import csv  --product KEY --file F --map title=Summary,points=Story\ Points … [--dry-run] [--all-or-nothing]
  northstar import export-file --file F [--product KEY] [--dry-run]

Imports work on the database directly (run them on the server's machine).
Items keep their key (Jira issue key) as an external reference, so a second
import of the same file updates them instead of adding them again.

Fields for --map: `+fieldNames()+`

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func fieldNames() string {
	names := make([]string, len(importer.Fields))
	for i, f := range importer.Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func (c *importCmd) run(ctx context.Context, args []string) error {
	if len(args) != 1 || c.file == "" {
		return errUsage
	}
	kind := args[0]
	if kind != "jira" && kind != "csv" && kind != "export-file" {
		return errUsage
	}
	if kind != "export-file" && c.product == "" {
		return fmt.Errorf("--product names the product to import into")
	}
	statuses, err := parseStatusMap(c.statusMap)
	if err != nil {
		return err
	}
	var in io.Reader = c.env.Stdin
	if c.file != "-" {
		f, err := os.Open(c.file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	a, db, err := c.db.openApp(ctx, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, err = actAs(ctx, a, c.as)
	if err != nil {
		return err
	}
	bar := &countBar{w: c.env.Stderr, label: "importing", last: -1}
	opts := app.ImportOptions{DryRun: c.dryRun, AllOrNothing: c.allOrNothing, BatchSize: c.batch, Progress: bar.set}
	if c.jsonOut {
		opts.Progress = nil
	}
	var reports []*app.ImportReport
	start := time.Now()
	switch kind {
	case "export-file":
		if c.file == "-" {
			// Standard input cannot be read twice: read it whole.
			f, err := importer.ReadExport(in)
			if err != nil {
				return err
			}
			if reports, err = a.ImportExport(ctx, f, c.product, opts); err != nil {
				return err
			}
			break
		}
		// A file is read as a stream, twice, in bounded memory.
		open := func() (io.ReadCloser, error) { return os.Open(c.file) }
		if reports, err = a.ImportExportStream(ctx, open, c.product, opts); err != nil {
			return err
		}
	default:
		t, err := importer.ReadCSV(in)
		if err != nil {
			return err
		}
		var res *importer.Result
		po := importer.Options{PointsField: c.pointsField, StatusMap: statuses, Markup: c.markup}
		if kind == "jira" {
			res, err = importer.ParseJira(t, po)
		} else {
			m, merr := importer.ParseMapping(c.mapping)
			if merr != nil {
				return merr
			}
			res, err = importer.ParseCSV(t, m, po)
		}
		if err != nil {
			return err
		}
		// Nothing is written on a dry run, nor by all-or-nothing with a
		// bad row: not even the product.
		noWrite := c.dryRun || (c.allOrNothing && len(res.Errors) > 0)
		if !noWrite {
			if err := c.ensureProduct(ctx, a); err != nil {
				return err
			}
		}
		rep, err := a.Import(ctx, c.product, res, opts)
		if northstar.ErrorCode(err) == northstar.ENOTFOUND && noWrite {
			rep, err = newProductDryRun(c.product, res, c.dryRun), nil
			fmt.Fprintf(c.env.Stderr, "Product %s does not exist yet; an import creates it.\n", strings.ToUpper(c.product))
		}
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	bar.finish()
	if c.jsonOut {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		if len(reports) == 1 {
			return enc.Encode(reports[0])
		}
		return enc.Encode(reports)
	}
	failed := false
	for _, r := range reports {
		c.printReport(r, time.Since(start))
		failed = failed || len(r.Errors) > 0
	}
	if failed && c.allOrNothing && !c.dryRun {
		return fmt.Errorf("nothing was imported: fix the rows above, or leave out --all-or-nothing to import the good rows")
	}
	return nil
}

// ensureProduct creates the product to import into when it does not
// exist yet (not on a dry run), so a team can start from its Jira export.
func (c *importCmd) ensureProduct(ctx context.Context, a *app.App) error {
	_, err := a.Product(ctx, c.product)
	if northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	if c.dryRun {
		return nil // reported as a product to create
	}
	key := strings.ToUpper(strings.TrimSpace(c.product))
	if _, err := a.CreateProduct(ctx, northstar.NewProduct{Key: key, Name: key}); err != nil {
		return fmt.Errorf("create product %s: %w", key, err)
	}
	fmt.Fprintf(c.env.Stderr, "Created product %s.\n", key)
	return nil
}

// newProductDryRun is the report for a product that does not exist yet
// when nothing is written: on a dry run everything in the file would be
// created.
func newProductDryRun(key string, res *importer.Result, dryRun bool) *app.ImportReport {
	rep := &app.ImportReport{Product: strings.ToUpper(key), Format: res.Format, DryRun: dryRun, Rows: res.Rows, Items: len(res.Items),
		UnknownStatuses: res.UnknownStatuses, UnknownTypes: res.UnknownTypes, PointsRounded: res.Rounded, Errors: res.Errors}
	if !dryRun {
		return rep // all-or-nothing with bad rows: nothing was written
	}
	for _, it := range res.Items {
		if it.Kind == importer.KindFeature {
			rep.FeaturesCreated++
		} else {
			rep.StoriesCreated++
		}
		rep.Comments += len(it.Comments)
	}
	return rep
}

func (c *importCmd) printReport(r *app.ImportReport, took time.Duration) {
	w := c.env.Stdout
	verb := "Imported into"
	switch {
	case r.DryRun:
		verb = "Dry run: nothing written. Importing would change"
	case !r.Written:
		verb = "Nothing written to"
	}
	fmt.Fprintf(w, "%s %s (%s): %d rows read, %d usable.\n", verb, r.Product, r.Format, r.Rows, r.Items)
	fmt.Fprintf(w, "  stories:  %d created, %d updated\n", r.StoriesCreated, r.StoriesUpdated)
	fmt.Fprintf(w, "  features: %d created, %d updated\n", r.FeaturesCreated, r.FeaturesUpdated)
	fmt.Fprintf(w, "  comments: %d\n", r.Comments)
	if len(r.ReleasesCreated) > 0 {
		fmt.Fprintf(w, "  releases created: %s\n", strings.Join(r.ReleasesCreated, ", "))
	}
	if len(r.SprintsCreated) > 0 {
		fmt.Fprintf(w, "  sprints created: %d (%s)\n", len(r.SprintsCreated), abbreviate(r.SprintsCreated, 5))
	}
	if r.MembersRestored > 0 {
		fmt.Fprintf(w, "  members restored: %d\n", r.MembersRestored)
	}
	if len(r.UsersCreated) > 0 {
		fmt.Fprintf(w, "  accounts created (an admin resets their passwords): %s\n", abbreviate(r.UsersCreated, 5))
	}
	if r.TeamCreated != "" {
		fmt.Fprintf(w, "  team created for the sprints: %s\n", r.TeamCreated)
	}
	fmt.Fprintf(w, "  people matched to members: %d; kept as text: %d\n", r.PeopleMatched, len(r.PeopleAsText))
	if r.PointsRounded > 0 {
		fmt.Fprintf(w, "  estimates moved to the point scale: %d (the original values are kept)\n", r.PointsRounded)
	}
	for _, s := range r.UnknownStatuses {
		fmt.Fprintf(w, "  unknown status %q on %d items: imported as new (map it with --status-map %q)\n", s.Value, s.Count, s.Value+"=in_progress")
	}
	for _, s := range r.UnknownTypes {
		fmt.Fprintf(w, "  unknown issue type %q on %d items: imported as stories\n", s.Value, s.Count)
	}
	if len(r.UnknownParents) > 0 {
		fmt.Fprintf(w, "  parents not found: %s\n", abbreviate(r.UnknownParents, 5))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "%d rows not imported:\n", len(r.Errors))
		for i, e := range r.Errors {
			if i == c.maxErrors {
				fmt.Fprintf(w, "  … and %d more (see --json)\n", len(r.Errors)-i)
				break
			}
			if e.Line == 0 {
				fmt.Fprintf(w, "  %s: %s\n", e.Ref, e.Reason)
			} else {
				fmt.Fprintf(w, "  %s\n", e.Error())
			}
		}
	}
	fmt.Fprintf(w, "Took %s.\n", took.Round(time.Millisecond))
}

func abbreviate(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(", … %d more", len(list)-n)
}

// parseStatusMap reads "Name=status,Other=status".
func parseStatusMap(s string) (map[string]northstar.StoryStatus, error) {
	out := map[string]northstar.StoryStatus{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		name, st, ok := strings.Cut(p, "=")
		status := northstar.StoryStatus(strings.TrimSpace(st))
		if !ok || !status.Valid() {
			return nil, fmt.Errorf("--status-map %q: write Name=status with status one of new, ready, in_progress, in_review, done", p)
		}
		out[strings.TrimSpace(name)] = status
	}
	return out, nil
}

// actAs returns a context acting as the user with that e-mail, or as the
// first admin when email is empty.
func actAs(ctx context.Context, a *app.App, email string) (context.Context, error) {
	sys := app.SystemContext(ctx)
	users, err := a.Users(sys)
	if err != nil {
		return nil, err
	}
	if email == "" {
		// The first admin: what is written needs a real author.
		for _, u := range users {
			if u.Admin && !u.Disabled {
				return northstar.NewContextWithUser(ctx, u), nil
			}
		}
		return nil, fmt.Errorf("no admin account yet: create one (northstar user create --admin …) or name a user with --as")
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, strings.TrimSpace(email)) {
			return northstar.NewContextWithUser(ctx, u), nil
		}
	}
	return nil, fmt.Errorf("no user with e-mail %s", email)
}

// countBar draws a one-line progress bar of items done out of a total.
type countBar struct {
	w     io.Writer
	label string
	last  int
	drawn bool
}

func (b *countBar) set(done, total int) {
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	if pct == b.last {
		return
	}
	b.last, b.drawn = pct, true
	const width = 30
	fill := pct * width / 100
	fmt.Fprintf(b.w, "\r%s [%s%s] %3d%% %d/%d", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct, done, total)
}

func (b *countBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// exportCmd writes a complete export of one product or of everything.
type exportCmd struct {
	env     Env
	db      dbFlags
	product string
	all     bool
	out     string
	as      string
}

func (c *exportCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	c.db.register(fs)
	fs.StringVar(&c.product, "product", "", "key of the product to export (several: comma-separated)")
	fs.BoolVar(&c.all, "all", false, "export every product, with users, teams and customers")
	fs.StringVar(&c.out, "out", "", "file to write: .json for JSON, .zip for the JSON plus stories.csv and features.csv (- for standard output)")
	fs.StringVar(&c.as, "as", "", "export as this user (e-mail; default: the first admin)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: northstar export --product KEY|--all --out F

Writes every kind of item: products, members, strategy, objectives, releases,
themes, features, stories with criteria and tasks, sprints, feedback,
comments and activity (and with --all users, teams and customers).
"northstar import export-file --file F" reads it back: products, features,
stories, releases, sprints and comments are recreated.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *exportCmd) run(ctx context.Context, args []string) error {
	if len(args) != 0 || c.out == "" || (c.product == "") == !c.all {
		return errUsage
	}
	a, db, err := c.db.openApp(ctx, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, err = actAs(ctx, a, c.as)
	if err != nil {
		return err
	}
	var keys []string
	for _, k := range strings.Split(c.product, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if c.out == "-" {
		_, err := a.Export(ctx, keys, c.all, c.env.Stdout)
		return err
	}
	tmp := c.out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	var st app.ExportStats
	if strings.EqualFold(filepath.Ext(c.out), ".zip") {
		st, err = writeExportZip(ctx, a, keys, c.all, f)
	} else {
		st, err = a.Export(ctx, keys, c.all, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, c.out); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "Exported %d products: %d stories, %d features, %d feedback, %d comments, %d activity entries to %s.\n",
		st.Products, st.Stories, st.Features, st.Feedback, st.Comments, st.Activity, c.out)
	return nil
}

// writeExportZip writes export.json and, read back from it, stories.csv
// and features.csv for spreadsheets.
func writeExportZip(ctx context.Context, a *app.App, keys []string, all bool, w io.Writer) (app.ExportStats, error) {
	zw := zip.NewWriter(w)
	jw, err := zw.Create("export.json")
	if err != nil {
		return app.ExportStats{}, err
	}
	tmp, err := os.CreateTemp("", "northstar-export-*.json")
	if err != nil {
		return app.ExportStats{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	st, err := a.Export(ctx, keys, all, io.MultiWriter(jw, tmp))
	if err != nil {
		return st, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return st, err
	}
	f, err := importer.ReadExport(tmp)
	if err != nil {
		return st, err
	}
	sw, err := zw.Create("stories.csv")
	if err != nil {
		return st, err
	}
	cw := csv.NewWriter(sw)
	cw.Write([]string{"product", "ref", "external_ref", "type", "title", "status", "points", "assignee", "labels", "feature", "sprint", "description", "created", "updated"})
	for _, p := range f.Products {
		for _, s := range p.Stories {
			pts, assignee, feature := "", "", ""
			if s.Points != nil {
				pts = strconv.Itoa(*s.Points)
			}
			if s.Assignee != nil {
				assignee = s.Assignee.Email
			}
			if s.Feature != nil {
				feature = s.Feature.Ref
			}
			writeSafe(cw, []string{p.Product.Key, s.Ref, s.ExternalRef, string(s.Type), s.Title, string(s.Status), pts, assignee,
				strings.Join(s.Labels, ","), feature, s.Sprint, s.Description, s.CreatedAt.Format(time.RFC3339), s.UpdatedAt.Format(time.RFC3339)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	fw, err := zw.Create("features.csv")
	if err != nil {
		return st, err
	}
	cw = csv.NewWriter(fw)
	cw.Write([]string{"product", "ref", "external_ref", "title", "status", "release", "problem", "created", "updated"})
	for _, p := range f.Products {
		for _, ft := range p.Features {
			rel := ""
			if ft.Release != nil {
				rel = ft.Release.Name
			}
			writeSafe(cw, []string{p.Product.Key, ft.Ref, ft.ExternalRef, ft.Title, string(ft.Status), rel, ft.Problem,
				ft.CreatedAt.Format(time.RFC3339), ft.UpdatedAt.Format(time.RFC3339)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	return st, zw.Close()
}

// writeSafe writes a CSV row whose cells cannot run as formulas.
func writeSafe(cw *csv.Writer, row []string) {
	for i := range row {
		row[i] = importer.CSVCell(row[i])
	}
	cw.Write(row)
}
