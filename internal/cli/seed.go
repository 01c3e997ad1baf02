package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/store"
)

// seedCmd fills a database with many products and stories of realistic
// text, to try Northstar at scale and to benchmark it.
type seedCmd struct {
	env      Env
	db       dbFlags
	products int
	stories  int
	batch    int
	corpus   string
	prefix   string
	rndSeed  uint64
	writers  int
}

func (c *seedCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	c.db.register(fs)
	if c.env.Getenv("NORTHSTAR_SQLITE_SYNC") == "" {
		// Seeded data can be seeded again after a power cut: spare the
		// bulk load an fsync per transaction.
		f := fs.Lookup("sqlite-sync")
		f.DefValue = "NORMAL"
		f.Value.Set("NORMAL")
	}
	fs.IntVar(&c.products, "products", 100, "number of products to create")
	fs.IntVar(&c.stories, "stories", 10000, "number of stories per product")
	fs.IntVar(&c.batch, "batch", 5000, "stories written per transaction")
	fs.StringVar(&c.corpus, "corpus", "../shared/data/storypoints", "folder of CSV files (issuekey,title,description,storypoint) to take story text from; built-in text when it does not exist")
	fs.StringVar(&c.prefix, "prefix", "P", "product keys are the prefix and a number: P001, P002, …")
	fs.Uint64Var(&c.rndSeed, "random-seed", 1, "seed of the random choices; the same seed gives the same data")
	fs.IntVar(&c.writers, "writers", 0, "transactions written at once (default 1 on SQLite, which has one writer, and the number of CPUs on PostgreSQL)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: northstar seed [flags]

Creates products (P001, P002, …) with backlogs of stories for trying
Northstar at scale and for benchmarks, and the demo accounts if they are
missing (pm@, po@, dev@, stakeholder@, viewer@northstar.test, all members of
every seeded product; password `+app.DemoPassword+`). It refuses to run
when one of the product keys exists. Never run it on a production database.`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *seedCmd) run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	if c.products < 1 || c.stories < 0 || c.batch < 1 {
		return fmt.Errorf("--products and --batch must be at least 1, --stories at least 0")
	}
	keys, err := seedKeys(c.prefix, c.products)
	if err != nil {
		return err
	}
	corpus, err := loadCorpus(c.corpus)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(c.env.Stderr, "corpus %s not found: generating story text from a built-in vocabulary\n", c.corpus)
	case err != nil:
		return err
	default:
		fmt.Fprintf(c.env.Stderr, "corpus: %d stories from %s\n", len(corpus), c.corpus)
	}

	a, db, err := c.db.openApp(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := seedUsers(ctx, a, db, c.env.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(c.rndSeed, 0x5eed))
	products, err := seedProducts(ctx, db, keys, users, rng)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "products %s … %s created\n", keys[0], keys[len(keys)-1])

	gen := &storyGen{rng: rng, corpus: corpus, users: users, now: time.Now().UTC()}
	total := int64(c.products) * int64(c.stories)
	stats, err := c.writeStories(ctx, db, gen, products, total)
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d stories: the products exist now; seed a fresh database to start over", stats.stories)
		}
		return err
	}
	fmt.Fprintf(c.env.Stdout, "seeded %d products with %d stories (%d acceptance criteria, %d tasks, %d labels) into %s in %s: %.0f stories/s\n",
		len(products), stats.stories, stats.criteria, stats.tasks, stats.labels, db.Engine(), elapsed.Round(100*time.Millisecond),
		float64(stats.stories)/elapsed.Seconds())
	fmt.Fprintf(c.env.Stdout, "sign in as pm@northstar.test or po@northstar.test (password %s) to browse them\n", app.DemoPassword)
	return nil
}

type seedStats struct{ stories, criteria, tasks, labels int64 }

// writeStories generates the stories on one goroutine and writes them in
// batches of c.batch, one transaction each, on others, so that making up
// the text overlaps with the database's work.
func (c *seedCmd) writeStories(ctx context.Context, db *store.DB, gen *storyGen, products []*seedProduct, total int64) (stats seedStats, err error) {
	if total == 0 {
		return stats, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []*northstar.Story, 2)
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		genErr <- gen.generate(ctx, products, c.stories, c.batch, batches)
	}()
	seeder, err := db.NewSeeder(ctx)
	if err != nil {
		return stats, err
	}
	defer func() {
		if cerr := seeder.Close(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// SQLite has one writer; PostgreSQL takes batches on several
	// connections at once, a core each.
	writers := c.writers
	if writers <= 0 {
		writers = 1
		if db.Engine() == store.Postgres {
			writers = max(2, runtime.NumCPU())
		}
	}
	bar := newRateBar(c.env.Stderr, "stories")
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if err := seeder.Add(ctx, batch); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					continue // drain, so the generator can finish
				}
				mu.Lock()
				stats.stories += int64(len(batch))
				for _, s := range batch {
					stats.criteria += int64(len(s.Criteria))
					stats.tasks += int64(len(s.Tasks))
					stats.labels += int64(len(s.Labels))
				}
				bar.set(stats.stories, total)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		bar.finish()
		return stats, firstErr
	}
	bar.finish()
	if err := <-genErr; err != nil {
		return stats, err
	}
	if db.Engine() == store.SQLite {
		fmt.Fprintln(c.env.Stderr, "merging the search index …")
	}
	return stats, ctx.Err()
}

// rateBar is a progressBar that counts items and shows their rate; the
// plain progressBar shows byte sizes.
type rateBar struct {
	*progressBar
	unit     string
	start    time.Time
	lastDraw time.Time
}

func newRateBar(w io.Writer, unit string) *rateBar {
	return &rateBar{progressBar: newProgressBar(w, "seeding"), unit: unit, start: time.Now()}
}

// set shows done out of total at most five times a second, and always at
// the end.
func (b *rateBar) set(done, total int64) {
	now := time.Now()
	if done < total && now.Sub(b.lastDraw) < 200*time.Millisecond {
		return
	}
	b.lastDraw = now
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	b.last, b.drawn = pct, true
	const width = 30
	fill := pct * width / 100
	rate := float64(done) / now.Sub(b.start).Seconds()
	fmt.Fprintf(b.w, "\r%s [%s%s] %3d%% %d/%d %s, %.0f/s ", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct, done, total, b.unit, rate)
}

// seedKeys returns the product keys: the prefix and a number, at least
// three digits wide.
func seedKeys(prefix string, n int) ([]string, error) {
	prefix = strings.ToUpper(strings.TrimSpace(prefix))
	width := max(3, len(strconv.Itoa(n)))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%0*d", prefix, width, i+1)
	}
	if err := northstar.ValidateProductKey(keys[n-1]); err != nil {
		return nil, fmt.Errorf("--prefix %q with %d products gives keys like %s: %s", prefix, n, keys[n-1], err.Message)
	}
	return keys, nil
}

// seedUsers makes sure the demo accounts exist and returns them by e-mail.
// On an empty database it seeds the whole demo organization.
func seedUsers(ctx context.Context, a *app.App, db *store.DB, log io.Writer) (map[string]*northstar.UserRef, error) {
	empty, err := a.NeedsFirstUser(ctx)
	if err != nil {
		return nil, err
	}
	if empty {
		if _, err := a.SeedDemoAccounts(ctx, nil); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "demo accounts created (password %s)\n", app.DemoPassword)
	}
	users := map[string]*northstar.UserRef{}
	for _, du := range app.DemoUsers {
		var u *northstar.User
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			u, _, err = tx.FindUserByEmail(ctx, du.Email)
			return err
		})
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			// Never an admin: this database has accounts of its own.
			u, err = a.CreateUser(app.SystemContext(ctx), northstar.NewUser{Email: du.Email, Name: du.Name, Password: app.DemoPassword}, false)
			if err == nil {
				fmt.Fprintf(log, "account %s created (password %s)\n", du.Email, app.DemoPassword)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", du.Email, err)
		}
		users[du.Email] = &northstar.UserRef{ID: u.ID, Email: u.Email, Name: u.Name}
	}
	return users, nil
}

// seedProduct is a product being seeded.
type seedProduct struct {
	*northstar.Product
	index int
}

// seedRoles are the demo accounts' roles in every seeded product.
var seedRoles = map[string]northstar.Role{
	"pm@northstar.test":          northstar.RoleProductManager,
	"po@northstar.test":          northstar.RoleProductOwner,
	"dev@northstar.test":         northstar.RoleDeveloper,
	"stakeholder@northstar.test": northstar.RoleStakeholder,
	"viewer@northstar.test":      northstar.RoleViewer,
}

// seedProducts creates the products with their members and lifecycle
// history in one transaction, refusing if one of the keys exists.
func seedProducts(ctx context.Context, db *store.DB, keys []string, users map[string]*northstar.UserRef, rng *rand.Rand) ([]*seedProduct, error) {
	var out []*seedProduct
	pm := users["pm@northstar.test"]
	emails := make([]string, 0, len(seedRoles))
	for e := range seedRoles {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	err := db.Update(ctx, func(tx *store.Tx) error {
		for i, key := range keys {
			if _, err := tx.FindProductByKey(ctx, key); err == nil {
				return fmt.Errorf("product %s already exists: this database was seeded before (seed a fresh database, or choose another --prefix)", key)
			} else if northstar.ErrorCode(err) != northstar.ENOTFOUND {
				return err
			}
			stages := seedStages[:2+rng.IntN(len(seedStages)-1)]
			age := 120 + rng.IntN(900) // days
			created := tx.Now.AddDate(0, 0, -age)
			name := seedProductNames[i%len(seedProductNames)] + " " + seedProductKinds[(i/len(seedProductNames)+i)%len(seedProductKinds)]
			if i >= len(seedProductNames)*len(seedProductKinds) {
				name += " " + strconv.Itoa(i+1)
			}
			p := &northstar.Product{
				Key: key, Name: name, Stage: stages[len(stages)-1], CreatedAt: created,
				Description: fmt.Sprintf("%s: seeded product %d for trying Northstar at scale.", name, i+1),
				Vision:      fmt.Sprintf("## %s\n\nFor teams who need **%s** without the spreadsheet.\n\n- measured, not guessed\n- shipped in small steps", name, strings.ToLower(name)),
			}
			if err := tx.CreateProduct(ctx, p, pm.ID); err != nil {
				return err
			}
			for _, e := range emails {
				if err := tx.SetMember(ctx, p.ID, users[e].ID, seedRoles[e]); err != nil {
					return err
				}
			}
			for j, st := range stages {
				c := &northstar.StageChange{To: st, ActorID: pm.ID, At: created.AddDate(0, 0, j*age/len(stages)), Note: "Seeded."}
				if j > 0 {
					c.From = stages[j-1]
				}
				if err := tx.AddStageChange(ctx, p.ID, c); err != nil {
					return err
				}
			}
			out = append(out, &seedProduct{Product: p, index: i})
		}
		return nil
	})
	return out, err
}

var seedStages = []northstar.Stage{northstar.StageConceived, northstar.StageDevelopment, northstar.StageIntroduction, northstar.StageGrowth, northstar.StageMaturity}

var seedProductNames = []string{"Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper",
	"Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood", "Summit", "Tundra"}

var seedProductKinds = []string{"Billing", "Inventory", "Search", "Payments", "Analytics", "Scheduling", "Messaging",
	"Onboarding", "Reporting", "Checkout", "Catalogue", "Helpdesk", "Logistics", "Loyalty", "Bookings"}

// corpusRow is one story of the text corpus.
type corpusRow struct {
	title, description string
	points             int // on the scale; -1 if the row had none
}

// maxSeedDescription bounds a seeded description, in bytes: the corpus has
// descriptions of 20,000 characters (stack traces, logs) that only slow the
// seeding and the search index down.
const maxSeedDescription = 2000

// loadCorpus reads every CSV file of dir. It returns an error wrapping
// os.ErrNotExist when dir does not exist or has no rows.
func loadCorpus(dir string) ([]corpusRow, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, err
	}
	var rows []corpusRow
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		rows, err = readCorpus(f, rows)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", name, err)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no stories in %s/*.csv: %w", dir, os.ErrNotExist)
	}
	return rows, nil
}

func readCorpus(r io.Reader, rows []corpusRow) ([]corpusRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		} else if err != nil {
			return nil, err
		}
		if first {
			first = false
			if len(rec) > 1 && rec[1] == "title" {
				continue
			}
		}
		if len(rec) < 4 {
			continue
		}
		title := cleanText(rec[1], northstar.MaxStoryTitleLen)
		if title == "" {
			continue
		}
		desc := rec[2]
		if desc == "NULL" {
			desc = ""
		}
		row := corpusRow{title: title, description: cleanText(desc, maxSeedDescription), points: -1}
		if p, err := strconv.ParseFloat(strings.TrimSpace(rec[3]), 64); err == nil && p >= 0 {
			row.points = nearestPoints(p)
		}
		rows = append(rows, row)
	}
}

// cleanText makes s storable: valid UTF-8 without NULs and carriage
// returns, trimmed, and cut at a word boundary to at most max bytes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r", "\n"))
	if len(s) <= max {
		return s
	}
	cut := max - len(" …")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexFunc(s[:cut], unicode.IsSpace); i > cut/2 {
		cut = i
	}
	return strings.TrimSpace(s[:cut]) + " …"
}

// nearestPoints maps an estimate onto the point scale.
func nearestPoints(p float64) int {
	best := northstar.PointScale[0]
	for _, v := range northstar.PointScale {
		if d, bd := abs(p-float64(v)), abs(p-float64(best)); d < bd || (d == bd && v > best) {
			best = v
		}
	}
	return best
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// storyGen makes up stories: the text from the corpus (or the built-in
// vocabulary), the rest from weighted random choices.
type storyGen struct {
	rng    *rand.Rand
	corpus []corpusRow
	users  map[string]*northstar.UserRef
	now    time.Time
}

// generate sends the stories of every product, n each, in batches.
func (g *storyGen) generate(ctx context.Context, products []*seedProduct, n, size int, out chan<- []*northstar.Story) error {
	batch := make([]*northstar.Story, 0, size)
	for _, p := range products {
		ranks, err := northstar.RanksBetween("", "", n)
		if err != nil {
			return err
		}
		span := g.now.Sub(p.CreatedAt)
		for i := 0; i < n; i++ {
			created := p.CreatedAt.Add(time.Duration(float64(span) * (float64(i) + g.rng.Float64()) / float64(n+1)))
			batch = append(batch, g.story(p, i+1, n, ranks[i], created))
			if len(batch) == size {
				select {
				case out <- batch:
				case <-ctx.Done():
					return ctx.Err()
				}
				batch = make([]*northstar.Story, 0, size)
			}
		}
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// pick returns one of the choices with the given weights.
func pick[T any](rng *rand.Rand, choices []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return choices[i]
		}
		r -= w
	}
	return choices[len(choices)-1]
}

var (
	seedTypeWeights = []int{60, 25, 10, 5} // story, bug, task, spike
	// The backlog's history is at the top: the older part of a backlog is
	// mostly done, the middle in progress, the rest new or ready.
	seedStatusesDone     = []northstar.StoryStatus{northstar.StatusDone, northstar.StatusInReview, northstar.StatusInProgress}
	seedStatusDoneWeight = []int{85, 5, 10}
	seedStatusesWork     = []northstar.StoryStatus{northstar.StatusInProgress, northstar.StatusInReview, northstar.StatusReady, northstar.StatusDone}
	seedStatusWorkWeight = []int{40, 20, 30, 10}
	seedStatusesTodo     = []northstar.StoryStatus{northstar.StatusNew, northstar.StatusReady}
	seedStatusTodoWeight = []int{70, 30}
)

// story makes up story number of n of product p.
func (g *storyGen) story(p *seedProduct, number, n int, rank string, created time.Time) *northstar.Story {
	rng := g.rng
	s := &northstar.Story{
		ProductID: p.ID, ProductKey: p.Key, Number: number, Rank: rank,
		Type:      pick(rng, northstar.StoryTypes, seedTypeWeights),
		CreatedAt: created,
		Criteria:  []northstar.Criterion{}, Tasks: []northstar.Task{}, Labels: []string{},
	}
	s.Ref = northstar.FormatRef(p.Key, number)
	switch pos := float64(number) / float64(n); {
	case pos < 0.35:
		s.Status = pick(rng, seedStatusesDone, seedStatusDoneWeight)
	case pos < 0.45:
		s.Status = pick(rng, seedStatusesWork, seedStatusWorkWeight)
	default:
		s.Status = pick(rng, seedStatusesTodo, seedStatusTodoWeight)
	}

	points := -1
	if len(g.corpus) > 0 {
		row := g.corpus[rng.IntN(len(g.corpus))]
		s.Title, s.Description, points = row.title, row.description, row.points
	} else {
		s.Title, s.Description = g.title(), g.description()
		points = northstar.PointScale[pick(rng, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{3, 15, 15, 20, 20, 14, 7, 3, 2, 1})]
	}
	if points >= 0 && (s.Status != northstar.StatusNew || rng.IntN(100) < 45) {
		s.Points = &points
	}
	if s.Type == northstar.TypeStory && rng.IntN(100) < 75 {
		s.Persona = seedPersonas[rng.IntN(len(seedPersonas))]
		s.Want = lowerFirst(strings.TrimRight(s.Title, ". "))
		s.Benefit = seedBenefits[rng.IntN(len(seedBenefits))]
	}

	nCrit := rng.IntN(5) // 0–4
	if s.Status == northstar.StatusNew {
		nCrit = rng.IntN(3)
	}
	for i := 0; i < nCrit; i++ {
		c := northstar.Criterion{Text: seedCriteria[rng.IntN(len(seedCriteria))]}
		switch s.Status {
		case northstar.StatusDone:
			c.Met = true
		case northstar.StatusInReview:
			c.Met = rng.IntN(100) < 80
		case northstar.StatusInProgress:
			c.Met = rng.IntN(100) < 30
		}
		s.Criteria = append(s.Criteria, c)
	}

	for _, l := range rng.Perm(len(seedLabels))[:pick(rng, []int{0, 1, 2, 3}, []int{40, 35, 18, 7})] {
		s.Labels = append(s.Labels, seedLabels[l])
	}

	po, pm, dev := g.users["po@northstar.test"], g.users["pm@northstar.test"], g.users["dev@northstar.test"]
	assigned := rng.IntN(100) < 85
	if s.Status == northstar.StatusNew || s.Status == northstar.StatusReady {
		assigned = rng.IntN(100) < 10
	}
	if assigned {
		s.Assignee = pick(rng, []*northstar.UserRef{dev, po, pm}, []int{80, 10, 10})
	}
	if s.Status == northstar.StatusInProgress || s.Status == northstar.StatusInReview || (s.Status == northstar.StatusDone && rng.IntN(100) < 30) {
		for i := 1 + rng.IntN(3); i > 0; i-- {
			t := northstar.Task{Text: seedTasks[rng.IntN(len(seedTasks))], Done: s.Status == northstar.StatusDone || rng.IntN(2) == 0}
			if rng.IntN(100) < 70 {
				t.Assignee = dev
			}
			s.Tasks = append(s.Tasks, t)
		}
	}

	s.CreatedBy = pick(rng, []*northstar.UserRef{po, pm}, []int{80, 20})
	s.UpdatedBy = s.CreatedBy
	s.UpdatedAt = created
	if s.Status != northstar.StatusNew {
		s.UpdatedAt = created.Add(time.Duration(rng.Float64() * float64(g.now.Sub(created))))
		if s.Assignee != nil {
			s.UpdatedBy = s.Assignee
		}
	}
	if s.Status == northstar.StatusDone && s.CriteriaMet() && rng.IntN(100) < 70 {
		at := s.UpdatedAt
		s.Accepted, s.AcceptedAt, s.AcceptedBy, s.UpdatedBy = true, &at, po, po
	}
	return s
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	// Keep acronyms ("API", "UI") as they are.
	if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// title and description make up story text when there is no corpus.
func (g *storyGen) title() string {
	r := g.rng
	return seedVerbs[r.IntN(len(seedVerbs))] + " " + seedObjects[r.IntN(len(seedObjects))] + " " + seedQualifiers[r.IntN(len(seedQualifiers))]
}

func (g *storyGen) description() string {
	r := g.rng
	if r.IntN(100) < 10 {
		return ""
	}
	var b strings.Builder
	for i := 1 + r.IntN(4); i > 0; i-- {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(fmt.Sprintf(seedSentences[r.IntN(len(seedSentences))], seedObjects[r.IntN(len(seedObjects))], seedQualifiers[r.IntN(len(seedQualifiers))]))
	}
	if r.IntN(3) == 0 {
		fmt.Fprintf(&b, "\n\n* %s\n* %s", seedCriteria[r.IntN(len(seedCriteria))], seedCriteria[r.IntN(len(seedCriteria))])
	}
	return b.String()
}

var seedPersonas = []string{"product owner", "developer", "shop owner", "administrator", "new user", "returning customer",
	"support agent", "team lead", "release manager", "QA engineer", "data analyst", "operator", "accountant", "mobile user"}

var seedBenefits = []string{"I can finish my work faster", "we lose fewer orders", "I can trust the numbers",
	"I do not have to ask support", "the team sees problems before customers do", "I can plan the next release",
	"mistakes are caught early", "I spend less time on manual steps", "customers stay with us", "audits pass without extra work"}

var seedCriteria = []string{
	"Works on screens down to 360 px wide",
	"Errors are shown next to the field that caused them",
	"Covered by an automated test",
	"Documented in the user guide",
	"Responds in under one second with 10,000 items",
	"Given a signed-in user, when they save, then the change is still there after a reload",
	"Only members of the product can see it",
	"Keyboard users can reach every control",
	"The change is written to the audit log",
	"Existing data is migrated without downtime",
	"An empty list shows a helpful hint instead of a blank page",
	"Works in the latest Firefox, Chrome and Safari",
	"Numbers and dates follow the user's locale",
	"Given an invalid file, when it is imported, then nothing is written and the first bad line is named",
	"Retries three times before reporting a failure",
	"The API returns 4xx with the name of the bad field",
	"Release notes mention the change",
	"No new warnings in the build",
}

var seedTasks = []string{"Write the migration", "Add the API endpoint", "Update the UI", "Write tests", "Update the docs",
	"Code review", "Check performance on staging", "Fix review comments", "Pair with QA", "Update the OpenAPI document"}

var seedLabels = []string{"backend", "frontend", "api", "ux", "performance", "security", "tech-debt", "mobile",
	"reporting", "billing", "search", "onboarding", "docs", "infra", "customer-request"}

var seedVerbs = []string{"Add", "Fix", "Support", "Show", "Export", "Import", "Allow", "Validate", "Speed up", "Remove",
	"Redesign", "Log", "Cache", "Paginate", "Translate", "Archive", "Notify about", "Sort", "Filter", "Audit"}

var seedObjects = []string{"invoices", "the search results", "the login page", "user profiles", "order history",
	"CSV reports", "the dashboard", "webhooks", "password resets", "the product catalogue", "shipping labels",
	"team permissions", "email notifications", "the mobile menu", "API tokens", "monthly statements", "stock levels",
	"the checkout form", "customer notes", "release builds"}

var seedQualifiers = []string{"for administrators", "on mobile", "in the API", "for large accounts", "by date",
	"after a timeout", "in the admin area", "for new customers", "in bulk", "without a reload", "per team",
	"in German and French", "for read-only users", "on slow connections", "in the nightly job"}

var seedSentences = []string{
	"Customers keep asking why %s behave differently %s.",
	"Today %s cannot be used %s, which costs the support team hours every week.",
	"We should change how %s work %s before the next release.",
	"The current behaviour of %s %s confuses new users; see the support tickets from last month.",
	"Measure how often %s are used %s and decide from the numbers.",
	"{code}ERROR: %s failed %s{code}",
}
