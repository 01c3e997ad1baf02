package cli_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/store"
)

// seedCorpus is a small corpus in the format of ../shared/data/storypoints:
// Jira markup, a NULL description, a multi-line one, one far too long, and
// estimates off the point scale.
const seedCorpus = `issuekey,title,description,storypoint
QX-1,Quixotic windmill importer,"Parse the *windmill* feed.
{code}
tilt --at windmills
{code}",4
QX-2,Export the marmalade ledger,NULL,21
QX-3,Show café opening hours,"Customers ask when the café opens; see h2. Hours.",0.5
QX-4,Rewrite the report engine,"` + "LONGTEXT" + `",13
`

func writeSeedCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	long := strings.Repeat("The report engine renders every row twice. ", 200) // about 8,600 bytes
	data := strings.Replace(seedCorpus, "LONGTEXT", long, 1)
	if err := os.WriteFile(filepath.Join(dir, "quixote.csv"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rawDB opens the database behind dsn with database/sql, for checks the
// store has no method for.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// asUser returns a context acting as the account with the given e-mail.
func asUser(t *testing.T, a *app.App, email string) context.Context {
	t.Helper()
	ctx := context.Background()
	var u *northstar.User
	err := a.DB().View(ctx, func(tx *store.Tx) error {
		var err error
		u, _, err = tx.FindUserByEmail(ctx, email)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return northstar.NewContextWithUser(ctx, u)
}

func TestSeed(t *testing.T) {
	corpus := writeSeedCorpus(t)
	eachEngine(t, func(t *testing.T, dsn string) {
		r := mustRun(t, "seed", "--db", dsn, "--products", "2", "--stories", "50", "--batch", "30", "--corpus", corpus)
		if !strings.Contains(r.stdout, "seeded 2 products with 100 stories") {
			t.Errorf("stdout does not report the stories:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "corpus: 4 stories") {
			t.Errorf("stderr does not report the corpus:\n%s", r.stderr)
		}

		a := openApp(t, dsn)
		raw := rawDB(t, dsn)
		po := asUser(t, a, "po@northstar.test")
		for _, email := range []string{"pm@northstar.test", "po@northstar.test"} {
			ps, err := a.Products(asUser(t, a, email), northstar.ProductFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, p := range ps {
				keys = append(keys, p.Key)
			}
			if got := strings.Join(keys, " "); !strings.Contains(got, "P001 P002") {
				t.Errorf("%s sees products %s, want P001 and P002 among them", email, got)
			}
		}

		for _, key := range []string{"P001", "P002"} {
			if n := queryInt(t, raw, "SELECT last_number FROM products WHERE key = '"+key+"'"); n != 50 {
				t.Errorf("%s last_number = %d, want 50", key, n)
			}
			stories, err := a.Stories(po, key, northstar.StoryFilter{Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			if len(stories) != 50 {
				t.Fatalf("%s has %d stories, want 50", key, len(stories))
			}
			for i, s := range stories {
				// Seeded backlogs are in number order, with ranks that sort.
				if s.Number != i+1 {
					t.Errorf("%s: story %d in the backlog is number %d, want %d", key, i+1, s.Number, i+1)
				}
				if i > 0 && s.Rank <= stories[i-1].Rank {
					t.Errorf("%s: rank %q of %s does not sort after %q", key, s.Rank, s.Ref, stories[i-1].Rank)
				}
				if !northstar.ValidRank(s.Rank) || len(s.Rank) > 4 {
					t.Errorf("%s: rank %q is not a short valid rank", s.Ref, s.Rank)
				}
				if s.Title == "" || !s.Type.Valid() || !s.Status.Valid() || len(s.Criteria) > 4 {
					t.Errorf("%s: implausible story %+v", s.Ref, s)
				}
				if s.Points != nil && !northstar.ValidPoints(*s.Points) {
					t.Errorf("%s: points %d are off the scale", s.Ref, *s.Points)
				}
				if len(s.Description) > 2000 {
					t.Errorf("%s: description of %d bytes was not cut", s.Ref, len(s.Description))
				}
				if s.Accepted && !s.CriteriaMet() {
					t.Errorf("%s is accepted with unmet criteria", s.Ref)
				}
				if s.CreatedBy == nil || s.Version != 1 {
					t.Errorf("%s: created by %v, version %d", s.Ref, s.CreatedBy, s.Version)
				}
			}
		}

		// The denormalised counts match the rows they count.
		for _, q := range []string{
			"SELECT COUNT(*) FROM stories s WHERE criteria_count <> (SELECT COUNT(*) FROM story_criteria c WHERE c.story_id = s.id)",
			"SELECT COUNT(*) FROM stories s WHERE criteria_met <> (SELECT COUNT(*) FROM story_criteria c WHERE c.story_id = s.id AND c.met)",
			"SELECT COUNT(*) FROM stories s WHERE tasks_count <> (SELECT COUNT(*) FROM story_tasks k WHERE k.story_id = s.id)",
			"SELECT COUNT(*) FROM stories s WHERE tasks_done <> (SELECT COUNT(*) FROM story_tasks k WHERE k.story_id = s.id AND k.done)",
			// Each story's history starts with its creation, as CreateStory records it.
			"SELECT COUNT(*) FROM stories s WHERE 1 <> (SELECT COUNT(*) FROM story_events e WHERE e.story_id = s.id AND e.kind = 'created')",
		} {
			if n := queryInt(t, raw, q); n != 0 {
				t.Errorf("%d stories with wrong counts: %s", n, q)
			}
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM story_criteria"); n == 0 {
			t.Error("no acceptance criteria seeded")
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM story_labels"); n == 0 {
			t.Error("no labels seeded")
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM stories WHERE assignee_id IS NOT NULL"); n == 0 {
			t.Error("no story is assigned")
		}

		// The search index has the seeded text: title, description (also
		// as a prefix, and without accents) and criteria.
		for _, q := range []string{"quixotic", "windmills", "marma", "cafe", "automated test"} {
			res, err := a.Search(po, q, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 0 {
				t.Errorf("search %q finds nothing", q)
			}
			for _, hit := range res {
				if !strings.HasPrefix(hit.Ref, "P00") {
					t.Errorf("search %q finds %s", q, hit.Ref)
				}
			}
		}

		// The next story continues the numbering, at the bottom.
		s, err := a.CreateStory(po, "P001", northstar.NewStory{Title: "Written after the seed"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Number != 51 {
			t.Errorf("next story is number %d, want 51", s.Number)
		}
		stories, err := a.Stories(po, "P001", northstar.StoryFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if last := stories[len(stories)-1]; last.Ref != s.Ref {
			t.Errorf("the new story is not at the bottom: the last one is %s", last.Ref)
		}

		// Seeding again refuses, and writes nothing.
		again := run(t, "seed", "--db", dsn, "--products", "2", "--stories", "5", "--corpus", corpus)
		if again.code != 1 || !strings.Contains(again.stderr, "P001 already exists") {
			t.Errorf("second seed: exit %d, stderr %s", again.code, again.stderr)
		}
		if n := queryInt(t, raw, "SELECT COUNT(*) FROM stories"); n != 101 {
			t.Errorf("%d stories after the refused seed, want 101", n)
		}
		// Another prefix adds products.
		mustRun(t, "seed", "--db", dsn, "--products", "1", "--stories", "5", "--prefix", "Q", "--corpus", corpus)
		if n := queryInt(t, raw, "SELECT last_number FROM products WHERE key = 'Q001'"); n != 5 {
			t.Errorf("Q001 last_number = %d, want 5", n)
		}
	})
}

func TestSeedWithoutCorpus(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "northstar.db")
	r := mustRun(t, "seed", "--db", dsn, "--products", "1", "--stories", "20", "--corpus", filepath.Join(t.TempDir(), "missing"))
	if !strings.Contains(r.stderr, "not found: generating story text from a built-in vocabulary") {
		t.Errorf("stderr does not say the corpus is missing:\n%s", r.stderr)
	}
	a := openApp(t, dsn)
	po := asUser(t, a, "po@northstar.test")
	stories, err := a.Stories(po, "P001", northstar.StoryFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(stories) != 20 {
		t.Fatalf("%d stories, want 20", len(stories))
	}
	word := strings.Fields(stories[0].Title)[0]
	if res, err := a.Search(po, word, 5); err != nil || len(res) == 0 {
		t.Errorf("search %q: %v, %v", word, res, err)
	}
}

func TestSeedBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--products", "0"},
		{"--batch", "0"},
		{"--prefix", "9"},
		{"--prefix", "TOOLONGKEY"},
	} {
		dsn := filepath.Join(t.TempDir(), "northstar.db")
		r := run(t, append([]string{"seed", "--db", dsn, "--stories", "1"}, args...)...)
		if r.code == 0 {
			t.Errorf("seed %v succeeded", args)
		}
	}
}
