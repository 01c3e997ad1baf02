package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/importer"
	"github.com/northstar-pm/northstar/internal/store"
)

// DefaultImportBatch is how many items one import transaction writes.
const DefaultImportBatch = 500

// maxReportedPeople bounds the names listed as kept as text.
const maxReportedPeople = 50

// ImportOptions tune an import.
type ImportOptions struct {
	// DryRun works out and reports what the import would do, writing
	// nothing.
	DryRun bool
	// AllOrNothing writes every item in one transaction, and nothing when
	// any row is bad; otherwise good rows are written in batches and bad
	// ones reported.
	AllOrNothing bool
	// BatchSize is the number of items per transaction (default 500).
	BatchSize int
	// Progress, when set, is told after each batch how many items of the
	// total are done.
	Progress func(done, total int)
}

// ImportReport says what an import did, or would do on a dry run.
type ImportReport struct {
	Product         string              `json:"product"`
	Format          string              `json:"format"`
	DryRun          bool                `json:"dry_run"`
	AllOrNothing    bool                `json:"all_or_nothing"`
	Written         bool                `json:"written"` // false on a dry run, or when all-or-nothing met a bad row
	Rows            int                 `json:"rows"`
	Items           int                 `json:"items"` // rows without errors
	StoriesCreated  int                 `json:"stories_created"`
	StoriesUpdated  int                 `json:"stories_updated"`
	FeaturesCreated int                 `json:"features_created"`
	FeaturesUpdated int                 `json:"features_updated"`
	Comments        int                 `json:"comments"`
	SprintsCreated  []string            `json:"sprints_created"`
	ReleasesCreated []string            `json:"releases_created"`
	TeamCreated     string              `json:"team_created,omitempty"`
	MembersRestored int                 `json:"members_restored,omitempty"` // export files
	UsersCreated    []string            `json:"users_created,omitempty"`    // export files, by an admin
	PeopleMatched   int                 `json:"people_matched"`
	PeopleAsText    []string            `json:"people_kept_as_text"`
	UnknownParents  []string            `json:"unknown_parents"`
	UnknownStatuses []importer.Count    `json:"unknown_statuses"`
	UnknownTypes    []importer.Count    `json:"unknown_types"`
	PointsRounded   int                 `json:"points_rounded"`
	Errors          []importer.RowError `json:"errors"`
	Duration        string              `json:"duration"`
	Columns         []string            `json:"columns"`
	Sample          []*importer.Item    `json:"sample,omitempty"`
}

// importPlan is what an import works out before writing.
type importPlan struct {
	user      *northstar.User
	product   *northstar.Product
	refs      map[string]store.ExternalItem
	byEmail   map[string]*northstar.UserRef
	byName    map[string]*northstar.UserRef
	releases  map[string]int64 // lower-case name → id
	sprints   map[string]*northstar.Sprint
	teamID    int64
	columns   []*northstar.BoardColumn
	lastBoard map[[2]int64]string
	items     []*importer.Item
	inFile    map[string]*importer.Item // upper-case key → item
	newRels   []string
	newSprint []string
}

// Import writes parsed items into a product: items with a key the product
// already has are updated, the others created; epics become features,
// sprints and releases (fix versions) are created, people are matched to
// members by e-mail or name or kept as text. Only a product manager,
// product owner or admin may import.
func (a *App) Import(ctx context.Context, key string, res *importer.Result, opts ImportOptions) (*ImportReport, error) {
	start := time.Now()
	key = normalizeKey(key)
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultImportBatch
	}
	rep := &ImportReport{
		Product: key, Format: res.Format, DryRun: opts.DryRun, AllOrNothing: opts.AllOrNothing, Rows: res.Rows,
		Items: len(res.Items), UnknownStatuses: res.UnknownStatuses, UnknownTypes: res.UnknownTypes,
		PointsRounded: res.Rounded, Errors: append([]importer.RowError{}, res.Errors...), Columns: res.Header,
		SprintsCreated: []string{}, ReleasesCreated: []string{}, PeopleAsText: []string{}, UnknownParents: []string{},
	}
	if len(res.Items) > 0 {
		rep.Sample = res.Items[:min(5, len(res.Items))]
	}
	plan := &importPlan{inFile: map[string]*importer.Item{}, lastBoard: map[[2]int64]string{}}
	err := a.db.View(ctx, func(tx *store.Tx) error {
		var err error
		plan.user, plan.product, err = authorize(ctx, tx, key, northstar.ActionEditStories)
		if err != nil {
			return err
		}
		return a.loadPlan(ctx, tx, plan, res.Items)
	})
	if err != nil {
		return nil, fmt.Errorf("import into %s: %w", key, err)
	}
	a.planItems(plan, res.Items, rep)
	if !opts.DryRun && opts.AllOrNothing && len(rep.Errors) > 0 {
		// Nothing is written: report no changes, only the bad rows.
		rep.addCounts(importCounts{})
		rep.SprintsCreated, rep.ReleasesCreated, rep.TeamCreated = []string{}, []string{}, ""
	}
	if opts.DryRun || (opts.AllOrNothing && len(rep.Errors) > 0) {
		rep.Duration = time.Since(start).Round(time.Millisecond).String()
		return rep, nil
	}
	// The counts above are what would happen; count again what does.
	rep.StoriesCreated, rep.StoriesUpdated, rep.FeaturesCreated, rep.FeaturesUpdated, rep.Comments = 0, 0, 0, 0, 0
	total := len(plan.items)
	if opts.AllOrNothing {
		var w *batchWriter
		err = a.db.Update(ctx, func(tx *store.Tx) error {
			if err := a.importPrelude(ctx, tx, plan, rep); err != nil {
				return err
			}
			w = &batchWriter{a: a, plan: plan, newRefs: map[string]store.ExternalItem{}}
			if err := w.reserve(ctx, tx, plan.items); err != nil {
				return err
			}
			for i, it := range plan.items {
				if err := w.write(ctx, tx, it); err != nil {
					return &importer.RowError{Line: it.Line, Ref: it.Key, Reason: northstar.ErrorMessage(err)}
				}
				if opts.Progress != nil && (i+1)%opts.BatchSize == 0 {
					opts.Progress(i+1, total)
				}
			}
			return a.recordImport(ctx, tx, plan, w.counts)
		})
		if err != nil {
			var re *importer.RowError
			if errors.As(err, &re) {
				rep.Errors = append(rep.Errors, *re)
				rep.addCounts(importCounts{})
				rep.SprintsCreated, rep.ReleasesCreated, rep.TeamCreated = []string{}, []string{}, ""
				rep.Duration = time.Since(start).Round(time.Millisecond).String()
				return rep, nil
			}
			return nil, fmt.Errorf("import into %s: %w", key, err)
		}
		rep.Written = true
		rep.addCounts(w.counts)
		if opts.Progress != nil {
			opts.Progress(total, total)
		}
		rep.Duration = time.Since(start).Round(time.Millisecond).String()
		return rep, nil
	}
	if err := a.db.Update(ctx, func(tx *store.Tx) error { return a.importPrelude(ctx, tx, plan, rep) }); err != nil {
		return nil, fmt.Errorf("import into %s: %w", key, err)
	}
	var all importCounts
	for from := 0; from < total; from += opts.BatchSize {
		batch := plan.items[from:min(from+opts.BatchSize, total)]
		c, err := a.writeBatch(ctx, plan, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("import into %s: %w", key, ctx.Err())
			}
			// Find the bad rows: write the batch's items one by one.
			for _, it := range batch {
				c1, err := a.writeBatch(ctx, plan, []*importer.Item{it})
				if err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("import into %s: %w", key, ctx.Err())
					}
					rep.Errors = append(rep.Errors, importer.RowError{Line: it.Line, Ref: it.Key, Reason: northstar.ErrorMessage(err)})
					continue
				}
				all.add(c1)
			}
		} else {
			all.add(c)
		}
		if opts.Progress != nil {
			opts.Progress(min(from+opts.BatchSize, total), total)
		}
	}
	if err := a.db.Update(ctx, func(tx *store.Tx) error { return a.recordImport(ctx, tx, plan, all) }); err != nil {
		return nil, fmt.Errorf("import into %s: %w", key, err)
	}
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
	rep.Written = true
	rep.addCounts(all)
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

type importCounts struct{ storiesCreated, storiesUpdated, featuresCreated, featuresUpdated, comments int }

func (c *importCounts) add(o importCounts) {
	c.storiesCreated += o.storiesCreated
	c.storiesUpdated += o.storiesUpdated
	c.featuresCreated += o.featuresCreated
	c.featuresUpdated += o.featuresUpdated
	c.comments += o.comments
}

func (r *ImportReport) addCounts(c importCounts) {
	r.StoriesCreated, r.StoriesUpdated = c.storiesCreated, c.storiesUpdated
	r.FeaturesCreated, r.FeaturesUpdated, r.Comments = c.featuresCreated, c.featuresUpdated, c.comments
}

func (a *App) loadPlan(ctx context.Context, tx *store.Tx, plan *importPlan, items []*importer.Item) error {
	p := plan.product
	// Only the items the file names, and their parents.
	seen := map[string]bool{}
	var keys []string
	for _, it := range items {
		for _, k := range []string{it.Key, it.Parent} {
			if k != "" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var err error
	if plan.refs, err = tx.ExternalRefsFor(ctx, p.ID, keys); err != nil {
		return err
	}
	members, err := tx.FindMembers(ctx, p.ID)
	if err != nil {
		return err
	}
	plan.byEmail, plan.byName = map[string]*northstar.UserRef{}, map[string]*northstar.UserRef{}
	ambiguous := map[string]bool{}
	for _, m := range members {
		ref := &northstar.UserRef{ID: m.UserID, Email: m.Email, Name: m.Name}
		plan.byEmail[strings.ToLower(m.Email)] = ref
		n := strings.ToLower(strings.TrimSpace(m.Name))
		if _, dup := plan.byName[n]; dup {
			ambiguous[n] = true
		}
		plan.byName[n] = ref
		// Jira often names people by the part of their address before @.
		if local, _, ok := strings.Cut(strings.ToLower(m.Email), "@"); ok {
			if _, dup := plan.byName[local]; !dup {
				plan.byName[local] = ref
			}
		}
	}
	for n := range ambiguous {
		delete(plan.byName, n) // two members of one name: keep the text
	}
	rels, err := tx.FindReleases(ctx, p.ID)
	if err != nil {
		return err
	}
	plan.releases = map[string]int64{}
	for _, r := range rels {
		plan.releases[strings.ToLower(r.Name)] = r.ID
	}
	if plan.sprints, err = tx.ProductSprints(ctx, p.ID); err != nil {
		return err
	}
	teams, err := tx.TeamIDsOfProduct(ctx, p.ID)
	if err != nil {
		return err
	}
	if len(teams) > 0 {
		plan.teamID = teams[0]
		if plan.columns, err = tx.BoardColumns(ctx, plan.teamID); err != nil {
			return err
		}
	}
	return nil
}

// person matches a name or address from the file to a member.
func (p *importPlan) person(s string) *northstar.UserRef {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return nil
	}
	if u, ok := p.byEmail[s]; ok {
		return u
	}
	return p.byName[s]
}

// planItems orders the items (features first, so stories can link to
// them) and works out what the import will do.
func (a *App) planItems(plan *importPlan, items []*importer.Item, rep *ImportReport) {
	for _, it := range items {
		if it.Key != "" {
			plan.inFile[strings.ToUpper(it.Key)] = it
		}
	}
	plan.items = make([]*importer.Item, 0, len(items))
	for _, kind := range []string{importer.KindFeature, importer.KindStory} {
		for _, it := range items {
			if it.Kind == kind {
				plan.items = append(plan.items, it)
			}
		}
	}
	text, matched := map[string]bool{}, 0
	unknownParents := map[string]bool{}
	seenRel, seenSprint := map[string]bool{}, map[string]bool{}
	for _, it := range plan.items {
		existing, exists := plan.refs[it.Key]
		if it.Key != "" && exists && existing.Kind != it.Kind {
			rep.Errors = append(rep.Errors, importer.RowError{Line: it.Line, Ref: it.Key, Reason: fmt.Sprintf(
				"%s was imported as a %s before and cannot become a %s", it.Key, existing.Kind, it.Kind)})
			it.Kind = "" // skipped below
			continue
		}
		switch {
		case it.Kind == importer.KindFeature && exists:
			rep.FeaturesUpdated++
		case it.Kind == importer.KindFeature:
			rep.FeaturesCreated++
		case exists:
			rep.StoriesUpdated++
		default:
			rep.StoriesCreated++
		}
		rep.Comments += len(it.Comments)
		for _, s := range []string{it.Assignee, it.Reporter} {
			if s == "" {
				continue
			}
			if plan.person(s) != nil {
				matched++
			} else {
				text[s] = true
			}
		}
		if it.Parent != "" && plan.inFile[strings.ToUpper(it.Parent)] == nil {
			if _, ok := plan.refs[it.Parent]; !ok {
				unknownParents[it.Parent] = true
			}
		}
		for _, v := range it.FixVersions {
			l := strings.ToLower(v)
			if _, ok := plan.releases[l]; !ok && !seenRel[l] {
				seenRel[l] = true
				plan.newRels = append(plan.newRels, v)
			}
		}
		if n := len(it.Sprints); n > 0 && it.Kind == importer.KindStory {
			for _, s := range it.Sprints {
				if _, ok := plan.sprints[s]; !ok && !seenSprint[s] {
					seenSprint[s] = true
					plan.newSprint = append(plan.newSprint, s)
				}
			}
		}
	}
	kept := plan.items[:0]
	for _, it := range plan.items {
		if it.Kind != "" {
			kept = append(kept, it)
		}
	}
	plan.items = kept
	rep.PeopleMatched = matched
	for s := range text {
		rep.PeopleAsText = append(rep.PeopleAsText, s)
	}
	sort.Strings(rep.PeopleAsText)
	if len(rep.PeopleAsText) > maxReportedPeople {
		rep.PeopleAsText = append(rep.PeopleAsText[:maxReportedPeople], fmt.Sprintf("… and %d more", len(text)-maxReportedPeople))
	}
	for s := range unknownParents {
		rep.UnknownParents = append(rep.UnknownParents, s)
	}
	sort.Strings(rep.UnknownParents)
	rep.ReleasesCreated = append(rep.ReleasesCreated, plan.newRels...)
	rep.SprintsCreated = append(rep.SprintsCreated, plan.newSprint...)
	if len(plan.newSprint) > 0 && plan.teamID == 0 {
		rep.TeamCreated = plan.product.Key + " team"
	}
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
}

// importPrelude creates the team, sprints and releases the items need.
func (a *App) importPrelude(ctx context.Context, tx *store.Tx, plan *importPlan, rep *ImportReport) error {
	p := plan.product
	for _, name := range plan.newRels {
		r := &northstar.Release{ProductID: p.ID, ProductKey: p.Key, Name: name, Status: northstar.ReleasePlanned}
		if err := tx.CreateRelease(ctx, r); err != nil {
			return err
		}
		plan.releases[strings.ToLower(name)] = r.ID
	}
	if len(plan.newSprint) == 0 {
		return nil
	}
	if plan.teamID == 0 {
		t := &northstar.Team{Name: p.Key + " team", Columns: northstar.DefaultColumns()}
		if err := tx.CreateTeam(ctx, t, []int64{p.ID}); err != nil {
			if store.IsDuplicate(err) {
				t.Name = fmt.Sprintf("%s team (imported %s)", p.Key, tx.Now.Format("2006-01-02 15:04:05"))
				err = tx.CreateTeam(ctx, t, []int64{p.ID})
			}
			if err != nil {
				return err
			}
		}
		plan.teamID, plan.columns = t.ID, t.Columns
	}
	// Sprints are dated by the earliest item in them, two weeks long.
	first := map[string]time.Time{}
	for _, it := range plan.items {
		if len(it.Sprints) == 0 || it.Created == nil {
			continue
		}
		for _, s := range it.Sprints {
			if t, ok := first[s]; !ok || it.Created.Before(t) {
				first[s] = *it.Created
			}
		}
	}
	for _, name := range plan.newSprint {
		start := tx.Now
		if t, ok := first[name]; ok {
			start = t
		}
		day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		s := &northstar.Sprint{TeamID: plan.teamID, Name: name, Start: northstar.Date{Time: day}, End: northstar.Date{Time: day.AddDate(0, 0, 14)}}
		if err := tx.CreateSprint(ctx, s); err != nil {
			return err
		}
		plan.sprints[name] = s
	}
	return nil
}

func (a *App) writeBatch(ctx context.Context, plan *importPlan, items []*importer.Item) (importCounts, error) {
	w := &batchWriter{a: a, plan: plan, newRefs: map[string]store.ExternalItem{}}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		w.newRefs, w.counts, w.ranked, w.left = map[string]store.ExternalItem{}, importCounts{}, false, 0
		if err := w.reserve(ctx, tx, items); err != nil {
			return err
		}
		for _, it := range items {
			if err := w.write(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return importCounts{}, err
	}
	// Only now that the batch is in: later batches may refer to its items.
	for k, v := range w.newRefs {
		plan.refs[k] = v
	}
	return w.counts, nil
}

// recordImport adds one entry to the product's activity log.
func (a *App) recordImport(ctx context.Context, tx *store.Tx, plan *importPlan, c importCounts) error {
	_, err := a.record(ctx, tx, plan.user, change{
		productID: plan.product.ID, productKey: plan.product.Key, kind: northstar.KindProduct, itemID: plan.product.ID,
		ref: plan.product.Key, action: "imported", skipDiff: true, quiet: true,
		changes: []northstar.FieldChange{
			{Field: "stories_created", New: c.storiesCreated}, {Field: "stories_updated", New: c.storiesUpdated},
			{Field: "features_created", New: c.featuresCreated}, {Field: "features_updated", New: c.featuresUpdated},
		},
	})
	return err
}

// batchWriter writes items in one transaction.
type batchWriter struct {
	a       *App
	plan    *importPlan
	newRefs map[string]store.ExternalItem
	counts  importCounts
	endRank string
	ranked  bool
	// next and left are the item numbers reserved for the new items.
	next, left int
}

// reserve takes the numbers the items about to be written will need, with
// one statement instead of one per item.
func (w *batchWriter) reserve(ctx context.Context, tx *store.Tx, items []*importer.Item) error {
	n := 0
	for _, it := range items {
		if _, ok := w.ref(it.Key); !ok || it.Key == "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	first, err := tx.ReserveNumbers(ctx, w.plan.product.ID, n)
	if err != nil {
		return err
	}
	w.next, w.left = first, n
	return nil
}

// number hands out the next reserved number, or takes a fresh one.
func (w *batchWriter) number(ctx context.Context, tx *store.Tx) (int, error) {
	if w.left > 0 {
		n := w.next
		w.next++
		w.left--
		return n, nil
	}
	return tx.NextNumber(ctx, w.plan.product.ID)
}

func (w *batchWriter) ref(key string) (store.ExternalItem, bool) {
	if it, ok := w.newRefs[key]; ok {
		return it, true
	}
	it, ok := w.plan.refs[key]
	return it, ok
}

func (w *batchWriter) write(ctx context.Context, tx *store.Tx, it *importer.Item) error {
	if it.Kind == importer.KindFeature {
		return w.writeFeature(ctx, tx, it)
	}
	return w.writeStory(ctx, tx, it)
}

func featureStatus(it *importer.Item) northstar.FeatureStatus {
	if it.FeatureStatus.Valid() {
		return it.FeatureStatus
	}
	switch it.Status {
	case northstar.StatusReady:
		return northstar.FeaturePlanned
	case northstar.StatusInProgress, northstar.StatusInReview:
		return northstar.FeatureInProgress
	case northstar.StatusDone:
		return northstar.FeatureReleased
	}
	return northstar.FeatureIdea
}

func (w *batchWriter) writeFeature(ctx context.Context, tx *store.Tx, it *importer.Item) error {
	p, user := w.plan.product, w.plan.user
	var release *northstar.NamedRef
	for _, v := range it.FixVersions {
		if id, ok := w.plan.releases[strings.ToLower(v)]; ok {
			release = &northstar.NamedRef{ID: id, Name: v}
			break
		}
	}
	var f *northstar.Feature
	existing, exists := w.ref(it.Key)
	if exists && it.Key != "" {
		var err error
		if f, err = tx.FindFeature(ctx, p.ID, existing.Number, northstar.FormatRef(p.Key, existing.Number)); err != nil {
			return err
		}
		f.Title, f.Problem, f.Status = it.Title, it.Description, featureStatus(it)
		if release != nil {
			f.Release = release
		}
		if err := tx.UpdateFeature(ctx, f); err != nil {
			return err
		}
		w.counts.featuresUpdated++
	} else {
		n, err := w.number(ctx, tx)
		if err != nil {
			return err
		}
		f = &northstar.Feature{ProductID: p.ID, ProductKey: p.Key, Number: n, Ref: northstar.FormatRef(p.Key, n), Title: it.Title,
			Problem: it.Description, Status: featureStatus(it), Release: release, CreatedBy: userRefOf(user)}
		if u := w.plan.person(it.Reporter); u != nil {
			f.CreatedBy = u
		}
		if u := w.plan.person(it.Assignee); u != nil {
			f.Owner = u
		}
		if err := tx.CreateFeature(ctx, f); err != nil {
			return err
		}
		w.counts.featuresCreated++
	}
	if err := tx.SetFeatureImport(ctx, f.ID, it.Key, it.Created, it.Updated); err != nil {
		return err
	}
	if it.Key != "" {
		w.newRefs[it.Key] = store.ExternalItem{Kind: importer.KindFeature, ID: f.ID, Number: f.Number}
	}
	return w.comments(ctx, tx, northstar.KindFeature, f.ID, it, exists)
}

func (w *batchWriter) writeStory(ctx context.Context, tx *store.Tx, it *importer.Item) error {
	p, user := w.plan.product, w.plan.user
	desc := it.Description
	var featureID *int64
	if it.Parent != "" {
		if parent, ok := w.ref(it.Parent); ok && parent.Kind == importer.KindFeature {
			featureID = &parent.ID
		} else if ok || w.plan.inFile[strings.ToUpper(it.Parent)] != nil {
			// Northstar has no stories under stories: say where it came from.
			desc = strings.TrimSpace("Sub-task of " + it.Parent + ".\n\n" + desc)
		}
	}
	assignee, reporter := w.plan.person(it.Assignee), w.plan.person(it.Reporter)
	imp := store.StoryImport{Ref: it.Key, RawPoints: it.RawPoints, Created: it.Created, Updated: it.Updated}
	if assignee == nil {
		imp.Assignee = it.Assignee
	}
	if reporter == nil {
		imp.Reporter = it.Reporter
	}
	var s *northstar.Story
	existing, exists := w.ref(it.Key)
	if exists && it.Key != "" {
		var err error
		if s, err = tx.FindStory(ctx, p.ID, existing.Number, northstar.FormatRef(p.Key, existing.Number)); err != nil {
			return err
		}
		s.Type, s.Title, s.Description, s.Points, s.Status = it.Type, it.Title, desc, it.Points, it.Status
		s.Persona, s.Want, s.Benefit = it.Persona, it.Want, it.Benefit
		s.Assignee, s.FeatureID, s.UpdatedBy = assignee, featureID, userRefOf(user)
		if err := tx.UpdateStory(ctx, s); err != nil {
			return err
		}
		if err := tx.SetStoryLabels(ctx, s, it.Labels); err != nil {
			return err
		}
		if err := tx.IndexStory(ctx, s); err != nil {
			return err
		}
		w.counts.storiesUpdated++
	} else {
		n, err := w.number(ctx, tx)
		if err != nil {
			return err
		}
		if !w.ranked {
			if w.endRank, err = tx.EndRank(ctx, p.ID, false, 0); err != nil {
				return err
			}
			w.ranked = true
		}
		rank, err := northstar.RankBetween(w.endRank, "")
		if err != nil {
			return err
		}
		w.endRank = rank
		s = &northstar.Story{ProductID: p.ID, ProductKey: p.Key, Number: n, Ref: northstar.FormatRef(p.Key, n), Type: it.Type,
			Title: it.Title, Persona: it.Persona, Want: it.Want, Benefit: it.Benefit, Description: desc, Points: it.Points,
			Status: it.Status, Labels: it.Labels, Assignee: assignee, FeatureID: featureID, Rank: rank,
			CreatedBy: userRefOf(user), UpdatedBy: userRefOf(user), Tasks: []northstar.Task{}}
		if reporter != nil {
			s.CreatedBy = reporter
		}
		for i, c := range it.Criteria {
			s.Criteria = append(s.Criteria, northstar.Criterion{Text: c, Met: i < len(it.CriteriaMet) && it.CriteriaMet[i]})
		}
		for _, t := range it.Tasks {
			s.Tasks = append(s.Tasks, northstar.Task{Text: t.Text, Done: t.Done})
		}
		if s.Labels == nil {
			s.Labels = []string{}
		}
		if err := tx.CreateStory(ctx, s); err != nil {
			return err
		}
		w.counts.storiesCreated++
	}
	if err := tx.SetStoryImport(ctx, s.ID, imp); err != nil {
		return err
	}
	if it.Key != "" {
		w.newRefs[it.Key] = store.ExternalItem{Kind: importer.KindStory, ID: s.ID, Number: s.Number}
	}
	if len(it.Sprints) > 0 {
		if err := w.placeInSprint(ctx, tx, s, it.Sprints[len(it.Sprints)-1]); err != nil {
			return err
		}
	}
	return w.comments(ctx, tx, northstar.KindStory, s.ID, it, exists)
}

// placeInSprint puts a story on its sprint's board, in the column of its
// status.
func (w *batchWriter) placeInSprint(ctx context.Context, tx *store.Tx, s *northstar.Story, name string) error {
	sp, ok := w.plan.sprints[name]
	if !ok || len(w.plan.columns) == 0 || (s.SprintID != nil && *s.SprintID == sp.ID) {
		return nil
	}
	col := w.plan.columns[0]
	for _, c := range w.plan.columns {
		if c.Status == s.Status {
			col = c
			break
		}
	}
	k := [2]int64{sp.ID, col.ID}
	last, ok := w.plan.lastBoard[k]
	if !ok {
		var err error
		if last, err = tx.LastBoardRank(ctx, sp.ID, col.ID); err != nil {
			return err
		}
	}
	rank, err := northstar.RankBetween(last, "")
	if err != nil {
		return err
	}
	w.plan.lastBoard[k] = rank
	return tx.SetStorySprint(ctx, s, &sp.ID, &col.ID, rank)
}

// comments adds the item's comments; a comment's author who is no member
// is named in its text. On an item that existed before, comments an
// earlier import added are not added again.
func (w *batchWriter) comments(ctx context.Context, tx *store.Tx, kind string, itemID int64, it *importer.Item, existed bool) error {
	for _, c := range it.Comments {
		author := w.plan.person(c.Author)
		body := c.Text
		if author == nil && c.Author != "" {
			body = "**" + c.Author + "** wrote:\n\n" + body
		}
		at := tx.Now
		if c.At != nil {
			at = *c.At
		}
		added, err := tx.AddImportedComment(ctx, w.plan.product.ID, kind, itemID, author, body, at, existed)
		if err != nil {
			return err
		}
		if added {
			w.counts.comments++
		}
	}
	return nil
}
