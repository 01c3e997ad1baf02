package northstar

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type sprintRow struct {
	board                string
	committed, delivered float64
	difference           float64
}

func readSprints(t *testing.T, path string) []sprintRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"boardid", "committed_points", "velocity_difference"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("%s: no column %s", path, name)
		}
	}
	var out []sprintRow
	for i, r := range rows[1:] {
		c, err1 := strconv.ParseFloat(r[col["committed_points"]], 64)
		d, err2 := strconv.ParseFloat(r[col["velocity_difference"]], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s line %d: committed_points %q, velocity_difference %q", path, i+2, r[col["committed_points"]], r[col["velocity_difference"]])
		}
		out = append(out, sprintRow{board: r[col["boardid"]], committed: c, delivered: math.Max(0, c+d), difference: d})
	}
	return out
}

func iqr(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) float64 { return s[int(math.Round(p*float64(len(s)-1)))] }
	return q(0.75) - q(0.25)
}

// TestSprintDeliveryRealProjects measures the planning forecast
// (ForecastDelivery over the shares of their commitments a board's
// earlier sprints delivered, at most 20) on the shared sprint files:
// the last quarter of each file is predicted from only earlier sprints,
// the prediction of velocity_difference is the likely delivery minus the
// commitment, and coverage is how often the truth fell inside the central
// 85 %. Baselines predict the median difference of all earlier sprints.
// Run with -v for the table; it skips without ../shared/data.
func TestSprintDeliveryRealProjects(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "shared", "data", "sprints", "*.csv"))
	if len(files) == 0 {
		t.Skip("no ../shared/data/sprints: the real-data evaluation is skipped")
	}
	if testing.Short() {
		t.Skip("slow")
	}
	t.Logf("%-8s %5s %7s %7s %9s %12s", "project", "n", "MAE", "NMAE", "cover85", "median NMAE")
	for _, path := range files {
		rows := readSprints(t, path)
		cut := len(rows) * 3 / 4
		var all []float64
		for _, r := range rows {
			all = append(all, r.difference)
		}
		scale := iqr(all)
		byBoard, committed := map[string][]float64{}, map[string][]float64{}
		var earlier []float64 // every earlier sprint's difference, for the baseline
		var mae, base float64
		n, covered := 0, 0
		for i, r := range rows {
			if i >= cut {
				hist, comm := byBoard[r.board], committed[r.board]
				if len(hist) > 20 {
					hist, comm = hist[len(hist)-20:], comm[len(comm)-20:]
				}
				pred, low, high := 0.0, 0.0, 0.0 // no history: as committed
				if f, err := (&Simulation{History: hist, Committed: comm, Unit: UnitPoints, Trials: 2000}).ForecastDelivery(r.committed); err == nil {
					pred, low, high = f.Likely-r.committed, f.Low-r.committed, f.High-r.committed
				}
				mae += math.Abs(pred - r.difference)
				if r.difference >= low-1e-9 && r.difference <= high+1e-9 {
					covered++
				}
				med := slices.Clone(earlier)
				slices.Sort(med)
				base += math.Abs(med[len(med)/2] - r.difference)
				n++
			}
			byBoard[r.board] = append(byBoard[r.board], r.delivered)
			committed[r.board] = append(committed[r.board], r.committed)
			earlier = append(earlier, r.difference)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		mae /= float64(n)
		t.Logf("%-8s %5d %7.2f %7.2f %8.0f%% %12.2f", name, n, mae, mae/scale, 100*float64(covered)/float64(n), base/float64(n)/scale)
	}
}
