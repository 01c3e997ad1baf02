package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/importer"
	"github.com/northstar-pm/northstar/internal/store"
)

// exportPage is how many stories, feedback items or activity entries an
// export reads at a time: memory stays bounded however large the product.
const exportPage = 500

// ExportStats counts what an export wrote.
type ExportStats struct {
	Products int `json:"products"`
	Stories  int `json:"stories"`
	Features int `json:"features"`
	Comments int `json:"comments"`
	Activity int `json:"activity"`
	Feedback int `json:"feedback"`
}

// Export writes a complete JSON export of the given products, or of every
// product when all is true (admins only): products with members, strategy,
// objectives, releases, themes, features, stories with criteria and tasks,
// sprints, feedback, comments and activity, plus users, customers and
// teams. It streams: stories, feedback, comments and activity are read and
// written a page at a time, in one read transaction so the export is one
// consistent picture. "northstar import export-file" reads it back.
func (a *App) Export(ctx context.Context, keys []string, all bool, w io.Writer) (ExportStats, error) {
	var st ExportStats
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &exportWriter{w: bw}
	err := a.db.View(ctx, func(tx *store.Tx) error {
		user, err := currentUser(ctx)
		if err != nil {
			return err
		}
		var products []*northstar.Product
		if all {
			if !user.Admin {
				return northstar.Errorf(northstar.EFORBIDDEN, "Only admins may export the whole installation.")
			}
			if products, err = tx.FindProducts(ctx, user, northstar.ProductFilter{IncludeArchived: true}); err != nil {
				return err
			}
		} else {
			if len(keys) == 0 {
				return northstar.FieldError("product", "Name a product to export.")
			}
			for _, k := range keys {
				_, p, err := authorize(ctx, tx, normalizeKey(k), northstar.ActionRead)
				if err != nil {
					return err
				}
				products = append(products, p)
			}
		}
		e.raw(`{"format":`)
		e.value(importer.ExportFormat)
		e.raw(`,"version":`)
		e.value(importer.ExportVersion)
		e.raw(`,"northstar_version":`)
		e.value(northstar.Version)
		e.raw(`,"exported_at":`)
		e.value(tx.Now)
		if all {
			users, err := tx.FindUsers(ctx)
			if err != nil {
				return err
			}
			e.field("users", users)
			teams, err := tx.FindTeams(ctx)
			if err != nil {
				return err
			}
			e.field("teams", teams)
			e.raw(`,"customers":[`)
			afterName, afterID, n := "", int64(0), 0
			for {
				cs, err := tx.FindCustomers(ctx, "", afterName, afterID, exportPage)
				if err != nil {
					return err
				}
				for _, c := range cs {
					e.item(&n, c)
				}
				if len(cs) < exportPage {
					break
				}
				afterName, afterID = cs[len(cs)-1].Name, cs[len(cs)-1].ID
			}
			e.raw("]")
		}
		e.raw(`,"products":[`)
		for i, p := range products {
			if i > 0 {
				e.raw(",")
			}
			if err := a.exportProduct(ctx, tx, p, e, &st); err != nil {
				return fmt.Errorf("export %s: %w", p.Key, err)
			}
			st.Products++
			if e.err != nil {
				return e.err
			}
		}
		e.raw("]}\n")
		return e.err
	})
	if err != nil {
		return st, err
	}
	return st, bw.Flush()
}

func (a *App) exportProduct(ctx context.Context, tx *store.Tx, p *northstar.Product, e *exportWriter, st *ExportStats) error {
	p.Role = ""
	e.raw(`{"product":`)
	e.value(p)
	members, err := tx.FindMembers(ctx, p.ID)
	if err != nil {
		return err
	}
	e.field("members", members)
	strategy, err := tx.FindStrategy(ctx, p)
	if err != nil {
		return err
	}
	e.field("strategy", strategy)
	objectives, err := tx.FindObjectives(ctx, p.ID, true)
	if err != nil {
		return err
	}
	e.field("objectives", objectives)
	releases, err := tx.FindReleases(ctx, p.ID)
	if err != nil {
		return err
	}
	e.field("releases", releases)
	themes, err := tx.FindThemes(ctx, p.ID)
	if err != nil {
		return err
	}
	e.field("themes", themes)
	sprints, err := tx.ProductSprints(ctx, p.ID)
	if err != nil {
		return err
	}
	sprintName := map[int64]string{}
	sprintList := []*northstar.Sprint{}
	for _, s := range sprints {
		sprintName[s.ID] = s.Name
		sprintList = append(sprintList, s)
	}
	e.field("sprints", sprintList)
	features, err := tx.FindFeatures(ctx, p.ID)
	if err != nil {
		return err
	}
	fRefs, err := tx.FeatureExternalRefs(ctx, p.ID)
	if err != nil {
		return err
	}
	e.raw(`,"features":[`)
	n := 0
	for _, f := range features {
		e.item(&n, importer.ExportedFeature{Feature: f, ExternalRef: fRefs[f.ID]})
	}
	st.Features += len(features)
	e.raw(`],"stories":[`)
	n = 0
	after := ""
	for {
		stories, err := tx.FindStories(ctx, p.ID, northstar.StoryFilter{After: after, Limit: exportPage})
		if err != nil {
			return err
		}
		ids := make([]int64, len(stories))
		for i, s := range stories {
			ids[i] = s.ID
		}
		imps, err := tx.StoryImports(ctx, ids)
		if err != nil {
			return err
		}
		for _, s := range stories {
			es := importer.ExportedStory{Story: s}
			if imp, ok := imps[s.ID]; ok {
				es.ExternalRef, es.ExternalPoints = imp.Ref, imp.RawPoints
				es.ExternalAssignee, es.ExternalReporter = imp.Assignee, imp.Reporter
			}
			if s.SprintID != nil {
				es.Sprint = sprintName[*s.SprintID]
			}
			e.item(&n, es)
		}
		st.Stories += len(stories)
		if e.err != nil {
			return e.err
		}
		if len(stories) < exportPage {
			break
		}
		after = stories[len(stories)-1].Rank
	}
	e.raw(`],"feedback":[`)
	n = 0
	var before int64
	for {
		fs, err := tx.FindFeedbackList(ctx, p.ID, northstar.FeedbackFilter{Before: before, Limit: exportPage})
		if err != nil {
			return err
		}
		for _, f := range fs {
			e.item(&n, f)
		}
		st.Feedback += len(fs)
		if len(fs) < exportPage {
			break
		}
		before = fs[len(fs)-1].ID
	}
	e.raw(`],"comments":[`)
	n = 0
	if err := tx.EachComment(ctx, p.ID, func(c *store.ExportedComment) error {
		e.item(&n, importer.ExportedComment(*c))
		st.Comments++
		return e.err
	}); err != nil {
		return err
	}
	e.raw(`],"activity":[`)
	n = 0
	before = 0
	for {
		acts, err := tx.FindActivities(ctx, p.ID, northstar.ActivityFilter{Before: before, Limit: exportPage})
		if err != nil {
			return err
		}
		for _, act := range acts {
			e.item(&n, act)
		}
		st.Activity += len(acts)
		if len(acts) < exportPage || e.err != nil {
			break
		}
		before = acts[len(acts)-1].ID
	}
	e.raw("]}")
	return e.err
}

// exportWriter writes JSON piece by piece and keeps the first error.
type exportWriter struct {
	w   *bufio.Writer
	err error
}

func (e *exportWriter) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *exportWriter) value(v any) {
	if e.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	_, e.err = e.w.Write(b)
}

func (e *exportWriter) field(name string, v any) {
	e.raw(`,"` + name + `":`)
	e.value(v)
}

// item writes one element of an array, with a comma after the first.
func (e *exportWriter) item(n *int, v any) {
	if *n > 0 {
		e.raw(",")
	}
	*n++
	e.value(v)
}

// ImportExport reads a file written by Export and imports every product
// in it, or only the product only names (into a product of that key,
// which is created when missing: the way to move a product from SQLite to
// PostgreSQL). Features, stories (with criteria, points, labels, sprint,
// assignee), releases, sprints and comments come back; items keep their
// old ref as external reference, so importing the same file again updates
// them.
func (a *App) ImportExport(ctx context.Context, f *importer.ExportFile, only string, opts ImportOptions) ([]*ImportReport, error) {
	var reports []*ImportReport
	for i := range f.Products {
		ep := &f.Products[i]
		if only != "" && !strings.EqualFold(ep.Product.Key, only) {
			continue
		}
		key := ep.Product.Key
		if _, err := a.Product(ctx, key); isNotFound(err) {
			if opts.DryRun {
				reports = append(reports, &ImportReport{Product: key, Format: "export", DryRun: true,
					Errors: []importer.RowError{{Reason: fmt.Sprintf("product %s does not exist yet; it will be created", key)}}})
				continue
			}
			if _, err := a.CreateProduct(ctx, northstar.NewProduct{Key: key, Name: ep.Product.Name, Description: ep.Product.Description,
				Vision: ep.Product.Vision, Stage: ep.Product.Stage}); err != nil {
				return reports, fmt.Errorf("create product %s: %w", key, err)
			}
		} else if err != nil {
			return reports, err
		}
		members := &ImportReport{}
		if !opts.DryRun {
			if err := a.restoreMembers(ctx, key, ep.Members, members); err != nil {
				return reports, err
			}
			if err := a.restorePlanning(ctx, key, ep.Releases, ep.Sprints, members); err != nil {
				return reports, err
			}
		}
		res := ep.Items()
		rep, err := a.Import(ctx, key, res, opts)
		if err != nil {
			return reports, err
		}
		rep.MembersRestored, rep.UsersCreated = members.MembersRestored, members.UsersCreated
		rep.ReleasesCreated = append(members.ReleasesCreated, rep.ReleasesCreated...)
		rep.SprintsCreated = append(members.SprintsCreated, rep.SprintsCreated...)
		if rep.TeamCreated == "" {
			rep.TeamCreated = members.TeamCreated
		}
		rep.Errors = append(members.Errors, rep.Errors...)
		reports = append(reports, rep)
	}
	if only != "" && len(reports) == 0 {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "The export holds no product %s.", strings.ToUpper(only))
	}
	return reports, nil
}

// exportChunk is how many features and stories of an export one Import
// call takes: a million-story export is imported in bounded memory.
const exportChunk = 5000

// ImportExportStream imports an export like ImportExport, reading it as a
// stream twice (open is called for each pass): first its comments, then
// its features and stories, imported exportChunk at a time. Memory stays
// bounded by the chunk and the comments, however many stories the export
// holds. With AllOrNothing every product is imported in one transaction,
// and so read whole.
func (a *App) ImportExportStream(ctx context.Context, open func() (io.ReadCloser, error), only string, opts ImportOptions) ([]*ImportReport, error) {
	only = strings.ToUpper(strings.TrimSpace(only))
	want := func(key string) bool { return only == "" || strings.EqualFold(key, only) }
	convs := map[string]*importer.ExportConverter{}
	members := map[string][]northstar.Member{}
	releases := map[string][]northstar.Release{}
	sprints := map[string][]northstar.Sprint{}
	var cur *importer.ExportConverter
	var curKey string
	walk := func(v importer.ExportVisitor) error {
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		return importer.WalkExport(r, v)
	}
	// Pass 1: the comments, by product and item.
	err := walk(importer.ExportVisitor{
		Product: func(p *northstar.Product) error {
			cur, curKey = nil, p.Key
			if want(p.Key) {
				cur = importer.NewExportConverter()
				convs[p.Key] = cur
			}
			return nil
		},
		Members: func(ms []northstar.Member) error {
			if cur != nil {
				members[curKey] = ms
			}
			return nil
		},
		Releases: func(rs []northstar.Release) error {
			if cur != nil {
				releases[curKey] = rs
			}
			return nil
		},
		Sprints: func(ss []northstar.Sprint) error {
			if cur != nil {
				sprints[curKey] = ss
			}
			return nil
		},
		Comment: func(c *importer.ExportedComment) error {
			if cur != nil {
				cur.AddComment(c)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if only != "" && convs[only] == nil {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "The export holds no product %s.", only)
	}
	// Pass 2: features and stories, a chunk at a time.
	chunkSize := exportChunk
	if opts.AllOrNothing {
		chunkSize = int(^uint(0) >> 1)
	}
	var reports []*ImportReport
	var rep *ImportReport
	var key string
	var items []*importer.Item
	var bad []importer.RowError
	done := 0
	flush := func() error {
		if len(items) == 0 && len(bad) == 0 {
			return nil
		}
		res := &importer.Result{Format: "export", Rows: len(items) + len(bad), Items: items, Errors: bad,
			UnknownStatuses: []importer.Count{}, UnknownTypes: []importer.Count{}}
		o := opts
		if opts.Progress != nil {
			offset := done
			o.Progress = func(d, _ int) { opts.Progress(offset+d, offset+len(res.Items)) }
		}
		r, err := a.Import(ctx, key, res, o)
		if err != nil {
			return err
		}
		done += len(items)
		mergeReport(rep, r)
		items, bad = nil, nil
		return nil
	}
	start := time.Now()
	err = walk(importer.ExportVisitor{
		Product: func(p *northstar.Product) error {
			cur = nil
			if !want(p.Key) {
				return nil
			}
			key, cur = p.Key, convs[p.Key]
			rep = &ImportReport{Product: key, Format: "export", DryRun: opts.DryRun, AllOrNothing: opts.AllOrNothing, Written: !opts.DryRun,
				SprintsCreated: []string{}, ReleasesCreated: []string{}, PeopleAsText: []string{}, UnknownParents: []string{},
				UnknownStatuses: []importer.Count{}, UnknownTypes: []importer.Count{}, Errors: []importer.RowError{}}
			reports = append(reports, rep)
			_, err := a.Product(ctx, key)
			if isNotFound(err) {
				if opts.DryRun {
					rep.Errors = append(rep.Errors, importer.RowError{Reason: fmt.Sprintf("product %s does not exist yet; the import creates it", key)})
					cur = nil
					return nil
				}
				_, err = a.CreateProduct(ctx, northstar.NewProduct{Key: key, Name: p.Name, Description: p.Description, Vision: p.Vision, Stage: p.Stage})
			}
			if err != nil || opts.DryRun {
				return err
			}
			// Members first, so that assignees and authors match; then
			// releases and sprints with their dates and goals.
			if err := a.restoreMembers(ctx, key, members[key], rep); err != nil {
				return err
			}
			return a.restorePlanning(ctx, key, releases[key], sprints[key], rep)
		},
		Feature: func(f *importer.ExportedFeature) error {
			if cur == nil {
				return nil
			}
			if it := cur.Feature(f); it != nil {
				items = append(items, it)
			}
			if len(items) >= chunkSize {
				return flush()
			}
			return nil
		},
		Story: func(s *importer.ExportedStory) error {
			if cur == nil {
				return nil
			}
			it, b := cur.Story(s)
			if b != nil {
				bad = append(bad, *b)
			} else if it != nil {
				items = append(items, it)
			}
			if len(items) >= chunkSize {
				return flush()
			}
			return nil
		},
		EndProduct: func(p *northstar.Product) error {
			if cur == nil {
				return nil
			}
			err := flush()
			rep.Duration = time.Since(start).Round(time.Millisecond).String()
			start = time.Now()
			return err
		},
	})
	return reports, err
}

// restoreMembers gives the exported members their roles in the product.
// An admin's import also creates the accounts that do not exist, with a
// random password: they sign in after an admin resets it (or through
// single sign-on). Members who cannot be restored are reported.
func (a *App) restoreMembers(ctx context.Context, key string, ms []northstar.Member, rep *ImportReport) error {
	user, err := currentUser(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if strings.EqualFold(m.Email, user.Email) {
			continue // the importer keeps their own role
		}
		_, err := a.SetMember(ctx, key, m.Email, m.Role)
		if err != nil && northstar.ErrorField(err) == "email" && user.Admin {
			secret := make([]byte, 24)
			rand.Read(secret)
			if _, cerr := a.CreateUser(ctx, northstar.NewUser{Name: m.Name, Email: m.Email, Password: base64.RawURLEncoding.EncodeToString(secret)}, false); cerr != nil {
				err = cerr
			} else {
				rep.UsersCreated = append(rep.UsersCreated, m.Email)
				_, err = a.SetMember(ctx, key, m.Email, m.Role)
			}
		}
		if err != nil {
			if !userFault(err) {
				return err
			}
			rep.Errors = append(rep.Errors, importer.RowError{Ref: m.Email, Reason: "member not restored: " + northstar.ErrorMessage(err)})
			continue
		}
		rep.MembersRestored++
	}
	return nil
}

// restorePlanning creates the exported releases and sprints the product
// does not have yet, with their goals, dates and status, so that the
// import that follows finds them by name. Sprints go to the product's
// first team, or to a new one.
func (a *App) restorePlanning(ctx context.Context, key string, rels []northstar.Release, sprints []northstar.Sprint, rep *ImportReport) error {
	if len(rels) == 0 && len(sprints) == 0 {
		return nil
	}
	var created, createdSprints []string
	var team string
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		created, createdSprints, team = nil, nil, ""
		_, p, err := authorize(ctx, tx, key, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		have, err := tx.FindReleases(ctx, p.ID)
		if err != nil {
			return err
		}
		names, mvp := map[string]bool{}, false
		for _, r := range have {
			names[strings.ToLower(r.Name)] = true
			mvp = mvp || r.MVP
		}
		for _, r := range rels {
			if r.Name == "" || names[strings.ToLower(r.Name)] || !r.Status.Valid() {
				continue
			}
			nr := &northstar.Release{ProductID: p.ID, ProductKey: p.Key, Name: r.Name, Goal: r.Goal, Target: r.Target, Status: r.Status,
				MVP: r.MVP && !mvp, ReleasedAt: r.ReleasedAt}
			mvp = mvp || nr.MVP
			if err := tx.CreateRelease(ctx, nr); err != nil {
				return err
			}
			names[strings.ToLower(r.Name)] = true
			created = append(created, r.Name)
		}
		if len(sprints) == 0 {
			return nil
		}
		existing, err := tx.ProductSprints(ctx, p.ID)
		if err != nil {
			return err
		}
		teams, err := tx.TeamIDsOfProduct(ctx, p.ID)
		if err != nil {
			return err
		}
		var teamID int64
		if len(teams) > 0 {
			teamID = teams[0]
		}
		active := false
		for _, s := range existing {
			active = active || (s.Status == northstar.SprintActive && s.TeamID == teamID)
		}
		for _, s := range sprints {
			if _, ok := existing[s.Name]; ok || s.Name == "" || s.Start.IsZero() || !s.End.After(s.Start.Time) {
				continue
			}
			if teamID == 0 {
				t := &northstar.Team{Name: p.Key + " team", Columns: northstar.DefaultColumns()}
				if err := tx.CreateTeam(ctx, t, []int64{p.ID}); err != nil {
					return err
				}
				teamID, team = t.ID, t.Name
			}
			ns := &northstar.Sprint{TeamID: teamID, Name: s.Name, Goal: s.Goal, Start: s.Start, End: s.End, Retro: s.Retro}
			if err := tx.CreateSprint(ctx, ns); err != nil {
				return err
			}
			if s.Status == northstar.SprintClosed || (s.Status == northstar.SprintActive && !active) {
				ns.Status, ns.StartedAt, ns.ClosedAt = s.Status, s.StartedAt, s.ClosedAt
				ns.CommittedPoints, ns.CommittedCount, ns.CompletedPoints, ns.CompletedCount = s.CommittedPoints, s.CommittedCount, s.CompletedPoints, s.CompletedCount
				ns.AddedPoints, ns.RemovedPoints = s.AddedPoints, s.RemovedPoints
				active = active || s.Status == northstar.SprintActive
				if err := tx.UpdateSprint(ctx, ns); err != nil {
					return err
				}
			}
			existing[s.Name] = ns
			createdSprints = append(createdSprints, s.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore releases and sprints of %s: %w", key, err)
	}
	rep.ReleasesCreated = append(rep.ReleasesCreated, created...)
	rep.SprintsCreated = append(rep.SprintsCreated, createdSprints...)
	if rep.TeamCreated == "" {
		rep.TeamCreated = team
	}
	return nil
}

// userFault reports whether err is about the input rather than the server.
func userFault(err error) bool {
	switch northstar.ErrorCode(err) {
	case northstar.EINVALID, northstar.ECONFLICT, northstar.EUNPROCESSABLE, northstar.EFORBIDDEN, northstar.ENOTFOUND:
		return true
	}
	return false
}

// mergeReport adds the report of one chunk to a product's report.
func mergeReport(dst, src *ImportReport) {
	dst.Rows += src.Rows
	dst.Items += src.Items
	dst.Written = dst.Written && src.Written
	dst.StoriesCreated += src.StoriesCreated
	dst.StoriesUpdated += src.StoriesUpdated
	dst.FeaturesCreated += src.FeaturesCreated
	dst.FeaturesUpdated += src.FeaturesUpdated
	dst.Comments += src.Comments
	dst.SprintsCreated = append(dst.SprintsCreated, src.SprintsCreated...)
	dst.ReleasesCreated = append(dst.ReleasesCreated, src.ReleasesCreated...)
	if dst.TeamCreated == "" {
		dst.TeamCreated = src.TeamCreated
	}
	dst.PeopleMatched += src.PeopleMatched
	for _, list := range []struct {
		dst *[]string
		src []string
	}{{&dst.PeopleAsText, src.PeopleAsText}, {&dst.UnknownParents, src.UnknownParents}} {
		for _, s := range list.src {
			if len(*list.dst) < maxReportedPeople && !slices.Contains(*list.dst, s) {
				*list.dst = append(*list.dst, s)
			}
		}
	}
	dst.PointsRounded += src.PointsRounded
	dst.Errors = append(dst.Errors, src.Errors...)
	if dst.Columns == nil {
		dst.Columns = src.Columns
	}
}
