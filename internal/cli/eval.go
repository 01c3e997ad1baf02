package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
)

// estimateCmd measures the story-point suggestions on files of past
// stories: northstar estimate eval --train F --test F [--json].
type estimateCmd struct {
	env         Env
	train, test string
	json        bool
}

func (c *estimateCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("estimate", flag.ContinueOnError)
	fs.StringVar(&c.train, "train", "", "CSV of estimated stories to learn from (issuekey,title,description,storypoint), oldest first")
	fs.StringVar(&c.test, "test", "", "CSV of stories to predict, same columns")
	fs.BoolVar(&c.json, "json", false, `print {"n","mae","mdae","sa"} as JSON`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: northstar estimate eval --train FILE.csv --test FILE.csv [--json]")
		fmt.Fprintln(fs.Output(), "\nTrains the suggestion model on the first file and predicts every row of the second;\nprints MAE, MdAE and SA (standardised accuracy against random guessing).\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

func (c *estimateCmd) run(_ context.Context, args []string) error {
	if len(args) != 1 || args[0] != "eval" || c.train == "" || c.test == "" {
		return errUsage
	}
	learn, err := readPointsFile(c.train, c.env.Stderr)
	if err != nil {
		return err
	}
	predict, err := readPointsFile(c.test, c.env.Stderr)
	if err != nil {
		return err
	}
	m := northstar.TrainEstimateModel(learn)
	var fallback int // the training median, for a story the model cannot place
	if pts := pointsOf(learn); len(pts) > 0 {
		fallback = int(pts[len(pts)/2])
	}
	actual, predicted := make([]float64, 0, len(predict)), make([]float64, 0, len(predict))
	for _, s := range predict {
		want := *s.Points
		q := *s
		q.Points = nil
		got := fallback
		if p := m.Suggest(&q).Points; p != nil {
			got = *p
		}
		actual, predicted = append(actual, float64(want)), append(predicted, float64(got))
	}
	r := northstar.EvaluateEstimates(actual, predicted)
	if c.json {
		return json.NewEncoder(c.env.Stdout).Encode(r)
	}
	fmt.Fprintf(c.env.Stdout, "trained on %d stories, predicted %d\nMAE  %.3f\nMdAE %.3f\nSA   %.1f %%\n", len(learn), r.N, r.MAE, r.MdAE, r.SA)
	return nil
}

func pointsOf(stories []*northstar.Story) []float64 {
	var out []float64
	for _, s := range stories {
		out = append(out, float64(*s.Points))
	}
	slices.Sort(out)
	return out
}

// readPointsFile reads issuekey,title,description,storypoint rows. A
// description of NULL is empty; a row whose points are not a number is
// left out with a warning naming its line, as nothing can be learnt or
// checked from it.
func readPointsFile(path string, warn io.Writer) ([]*northstar.Story, error) {
	rows, col, err := readCSVFile(path, "issuekey", "title", "description", "storypoint")
	if err != nil {
		return nil, err
	}
	var out []*northstar.Story
	skipped := 0
	for i, row := range rows {
		line := i + 2
		raw := strings.TrimSpace(row[col["storypoint"]])
		p, err := strconv.ParseFloat(raw, 64)
		if err != nil || p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			if skipped < 5 {
				fmt.Fprintf(warn, "%s line %d, column storypoint: %q is not a number of points; row left out\n", path, line, raw)
			}
			skipped++
			continue
		}
		desc := row[col["description"]]
		if desc == "NULL" {
			desc = ""
		}
		pts := int(math.Round(p))
		out = append(out, &northstar.Story{ID: int64(line), Ref: row[col["issuekey"]], Title: row[col["title"]], Description: desc, Points: &pts})
	}
	if skipped > 5 {
		fmt.Fprintf(warn, "%s: %d rows left out in all\n", path, skipped)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no row with a number of points", path)
	}
	return out, nil
}

// readCSVFile reads a CSV file with a header naming at least the given
// columns and returns the rows after it and each column's index.
func readCSVFile(path string, need ...string) ([][]string, map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: the file is empty; want a header with %s", path, strings.Join(need, ","))
	} else if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.TrimPrefix(strings.TrimSpace(name), "\ufeff")] = i
	}
	for _, name := range need {
		if _, ok := col[name]; !ok {
			return nil, nil, fmt.Errorf("%s line 1: no column %q (the header has %s)", path, name, strings.Join(header, ","))
		}
	}
	var rows [][]string
	for line := 2; ; line++ {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(row) != len(header) {
			return nil, nil, fmt.Errorf("%s line %d: %d columns, the header has %d", path, line, len(row), len(header))
		}
		rows = append(rows, row)
	}
	return rows, col, nil
}

// forecastCmd measures the sprint delivery forecast on sprint files:
// northstar forecast eval --history F --test F [--json].
type forecastCmd struct {
	env                   Env
	historyPath, testPath string
	json                  bool
}

type sprintRecord struct {
	board                string
	committed, delivered float64
	difference           float64
}

func (c *forecastCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("forecast", flag.ContinueOnError)
	fs.StringVar(&c.historyPath, "history", "", "CSV of earlier sprints (boardid, committed_points, velocity_difference, …) in sprint order")
	fs.StringVar(&c.testPath, "test", "", "CSV of the sprints to predict, same columns, after the history")
	fs.BoolVar(&c.json, "json", false, `print {"n","mae","nmae","coverage85"} as JSON`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: northstar forecast eval --history FILE.csv --test FILE.csv [--json]")
		fmt.Fprintln(fs.Output(), "\nPredicts each test sprint's velocity_difference from earlier sprints only; prints MAE,\nNMAE (MAE over the inter-quartile range) and how often the truth fell in the 85 % interval.\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

func (c *forecastCmd) run(_ context.Context, args []string) error {
	if len(args) != 1 || args[0] != "eval" || c.historyPath == "" || c.testPath == "" {
		return errUsage
	}
	history, err := readSprintFile(c.historyPath)
	if err != nil {
		return err
	}
	test, err := readSprintFile(c.testPath)
	if err != nil {
		return err
	}
	if len(test) == 0 {
		return fmt.Errorf("%s: no sprint to predict", c.testPath)
	}
	// Each board's delivered and committed points so far; a test sprint
	// joins them once predicted, so later ones may use it.
	delivered, committed := map[string][]float64{}, map[string][]float64{}
	add := func(r sprintRecord) {
		delivered[r.board] = append(delivered[r.board], r.delivered)
		committed[r.board] = append(committed[r.board], r.committed)
	}
	for _, r := range history {
		add(r)
	}
	var diffs []float64
	for _, r := range history {
		diffs = append(diffs, r.difference)
	}
	var sumErr float64
	covered := 0
	for _, r := range test {
		diffs = append(diffs, r.difference)
		hist, comm := delivered[r.board], committed[r.board]
		if len(hist) > 20 {
			hist, comm = hist[len(hist)-20:], comm[len(comm)-20:]
		}
		pred, low, high := 0.0, 0.0, 0.0 // no history for the board: as committed
		sim := &northstar.Simulation{History: hist, Committed: comm, Unit: northstar.UnitPoints, Trials: 2000}
		if f, err := sim.ForecastDelivery(r.committed); err == nil {
			pred, low, high = f.Likely-r.committed, f.Low-r.committed, f.High-r.committed
		}
		sumErr += math.Abs(pred - r.difference)
		if r.difference >= low-1e-9 && r.difference <= high+1e-9 {
			covered++
		}
		add(r)
	}
	n := float64(len(test))
	res := struct {
		N          int     `json:"n"`
		MAE        float64 `json:"mae"`
		NMAE       float64 `json:"nmae"`
		Coverage85 float64 `json:"coverage85"`
	}{N: len(test), MAE: sumErr / n, Coverage85: float64(covered) / n}
	if scale := interquartile(diffs); scale > 0 {
		res.NMAE = res.MAE / scale
	}
	if c.json {
		return json.NewEncoder(c.env.Stdout).Encode(res)
	}
	fmt.Fprintf(c.env.Stdout, "predicted %d sprints from %d earlier ones\nMAE       %.3f points\nNMAE      %.3f\ncovered   %.1f %% inside the 85 %% interval\n",
		res.N, len(history), res.MAE, res.NMAE, 100*res.Coverage85)
	return nil
}

func readSprintFile(path string) ([]sprintRecord, error) {
	rows, col, err := readCSVFile(path, "boardid", "committed_points", "velocity_difference")
	if err != nil {
		return nil, err
	}
	out := make([]sprintRecord, 0, len(rows))
	for i, row := range rows {
		num := func(name string) (float64, error) {
			raw := strings.TrimSpace(row[col[name]])
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("%s line %d, column %s: %q is not a number", path, i+2, name, raw)
			}
			return v, nil
		}
		c, err := num("committed_points")
		if err != nil {
			return nil, err
		}
		d, err := num("velocity_difference")
		if err != nil {
			return nil, err
		}
		out = append(out, sprintRecord{board: row[col["boardid"]], committed: c, delivered: math.Max(0, c+d), difference: d})
	}
	return out, nil
}

func interquartile(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) float64 { return s[int(math.Round(p*float64(len(s)-1)))] }
	return q(0.75) - q(0.25)
}
