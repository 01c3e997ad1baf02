// Command vulndb builds an offline Go vulnerability database from the
// golang.org/x/vulndb module, in the layout that govulncheck reads with
// -db file:///DIR (https://go.dev/security/vuln/database#api):
//
//	DIR/index/db.json       when the database was last modified
//	DIR/index/modules.json  each affected module with its vulnerabilities
//	DIR/index/vulns.json    each vulnerability with its aliases
//	DIR/ID/GO-YYYY-NNNN.json one OSV entry per vulnerability
//
// The module ships its entries already in OSV form under data/osv; only the
// indexes are computed here. The go command downloads the module through the
// module proxy and checks it against the checksum database; vulndb also
// checks the module's hash against -sum, so that the database is the one the
// Makefile pins and not whatever the proxy serves for that version.
//
// Usage:
//
//	go run ./vulndb -version VERSION -sum h1:HASH -out DIR
//
// DIR must not exist: the database is written next to it and renamed into
// place once complete, so an interrupted build leaves nothing that looks
// like a database.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

const modulePath = "golang.org/x/vulndb"

func main() {
	version := flag.String("version", "", "version of "+modulePath+" to build from (required)")
	sum := flag.String("sum", "", "expected go.sum hash (h1:…) of that version (required)")
	out := flag.String("out", "", "directory to create for the database (required)")
	flag.Parse()
	if *version == "" || *sum == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*version, *sum, *out, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(version, sum, out string, progress io.Writer) error {
	start := time.Now()
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s already exists", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintf(progress, "vulndb: downloading %s@%s\n", modulePath, version)
	dir, err := download(version, sum)
	if err != nil {
		return err
	}
	// The entries' own modified times are left unset in the module (the
	// deployed database takes them from git history), so the database is
	// dated by the commit the pseudo-version names.
	modified, err := module.PseudoVersionTime(version)
	if err != nil {
		return fmt.Errorf("date the database: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), filepath.Base(out)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, err := build(filepath.Join(dir, "data", "osv"), tmp, modified, progress)
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(progress, "vulndb: %d entries (%d for the standard library and toolchain), %d modules, written to %s in %.1fs\n",
		st.entries, st.stdlib, st.modules, out, time.Since(start).Seconds())
	return nil
}

// download fetches the module with the go command and returns the
// directory it was extracted to.
func download(version, sum string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modulePath+"@"+version)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	var res struct {
		Dir   string
		Sum   string
		Error string
	}
	if jerr := json.Unmarshal(b, &res); jerr != nil {
		if err != nil {
			return "", fmt.Errorf("go mod download: %w", err)
		}
		return "", fmt.Errorf("go mod download: %w", jerr)
	}
	if res.Error != "" {
		return "", fmt.Errorf("go mod download: %s", res.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	if res.Sum != sum {
		return "", fmt.Errorf("%s@%s has hash %s, want %s", modulePath, version, res.Sum, sum)
	}
	return res.Dir, nil
}

// entry is the part of an OSV entry that the indexes are made of.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

type stats struct {
	entries, stdlib, modules int
}

// build reads every OSV entry in src and writes the database to out, an
// existing empty directory. modified dates the database when it is later
// than every entry's own modified time.
func build(src, out string, modified time.Time, progress io.Writer) (stats, error) {
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return stats{}, err
	}
	if len(names) == 0 {
		return stats{}, fmt.Errorf("no OSV entries in %s", src)
	}
	for _, d := range []string{"ID", "index"} {
		if err := os.Mkdir(filepath.Join(out, d), 0o755); err != nil {
			return stats{}, err
		}
	}

	db := dbMeta{Modified: modified}
	modules := map[string]*moduleMeta{}
	var vulns []vulnMeta
	var st stats
	for i, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return stats{}, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return stats{}, fmt.Errorf("%s: %w", name, err)
		}
		// govulncheck finds an entry by its ID alone.
		if filepath.Base(name) != e.ID+".json" {
			return stats{}, fmt.Errorf("%s: holds entry %q", name, e.ID)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644); err != nil {
			return stats{}, err
		}
		if e.Modified.After(db.Modified) {
			db.Modified = e.Modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		// An entry may name a module in several affected blocks (one per
		// release branch or package); the index lists it once per module.
		var paths []string
		ranges := map[string][]osvRange{}
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" {
				return stats{}, fmt.Errorf("%s: affected package without a module path", name)
			}
			if _, ok := ranges[path]; !ok {
				paths = append(paths, path)
			}
			ranges[path] = append(ranges[path], a.Ranges...)
		}
		for _, path := range paths {
			m := modules[path]
			if m == nil {
				m = &moduleMeta{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: lastFix(ranges[path])})
		}
		if _, ok := ranges["stdlib"]; ok {
			st.stdlib++
		} else if _, ok := ranges["toolchain"]; ok {
			st.stdlib++
		}
		st.entries++
		if (i+1)%1000 == 0 || i+1 == len(names) {
			fmt.Fprintf(progress, "vulndb: %d/%d entries\n", i+1, len(names))
		}
	}
	if st.stdlib == 0 {
		// A database without them would pass every scan of the standard
		// library, which is what this project mostly needs checked.
		return stats{}, errors.New("no entry for the standard library")
	}

	index := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		index = append(index, m)
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	st.modules = len(index)

	for name, v := range map[string]any{"db.json": db, "modules.json": index, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return stats{}, err
		}
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			return stats{}, err
		}
	}
	return st, nil
}

// lastFix returns the version that fixes the vulnerability for good: the
// highest fixed version when no range introduces it again at or above that
// version, and "" otherwise. govulncheck reads an entry only for a module
// older than this version, and for every version when it is "", so ""
// is always safe.
func lastFix(ranges []osvRange) string {
	var fixed string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			if ev.Fixed != "" && (fixed == "" || semver.Compare("v"+ev.Fixed, "v"+fixed) > 0) {
				fixed = ev.Fixed
			}
		}
	}
	if fixed == "" {
		return ""
	}
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			in := ev.Introduced
			if in != "" && in != "0" && semver.Compare("v"+in, "v"+fixed) >= 0 {
				return ""
			}
		}
	}
	return fixed
}
