//go:build unix

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The soak test drives the real server with steady load (half the rate it
// sustains, the overload test's mix of reads and writes, and event
// streams opened and ended every few seconds) for NORTHSTAR_SOAK, and
// checks that what a leak would grow stays flat: the server's resident
// memory, its threads, and its open files (connections and database
// files). The server has no debug endpoint, so its goroutines are not
// counted; a goroutine leak shows as memory, and as open files when it
// holds a connection. "make soak" runs it for SOAKTIME (10 minutes); make
// test does not.

// soakSample is what /proc says about a process at one moment.
type soakSample struct {
	at      time.Duration // since the load began
	rssKiB  int
	threads int
	fds     int
}

func (s soakSample) String() string {
	return fmt.Sprintf("RSS %.1f MiB, %d threads, %d open files", float64(s.rssKiB)/1024, s.threads, s.fds)
}

// sampleProcess reads the resident memory and threads of pid from
// /proc/<pid>/status, and counts its open files in /proc/<pid>/fd.
func sampleProcess(t *testing.T, pid int) soakSample {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("the soak test reads /proc (Linux): %v", err)
	}
	var s soakSample
	for line := range strings.Lines(string(status)) {
		name, value, _ := strings.Cut(line, ":")
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		switch name {
		case "VmRSS":
			s.rssKiB, err = strconv.Atoi(fields[0]) // in kB
		case "Threads":
			s.threads, err = strconv.Atoi(fields[0])
		}
		if err != nil {
			t.Fatalf("/proc/%d/status: %s: %v", pid, strings.TrimSpace(line), err)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	s.fds = len(fds)
	return s
}

func TestSoak(t *testing.T) {
	spec := os.Getenv("NORTHSTAR_SOAK")
	if spec == "" {
		t.Skip("NORTHSTAR_SOAK is not set: the soak test runs with \"make soak\" (SOAKTIME=10m) or NORTHSTAR_SOAK=<duration>, as in 10m")
	}
	d, err := time.ParseDuration(spec)
	if err != nil || d < 30*time.Second {
		t.Fatalf("NORTHSTAR_SOAK=%q: want a duration of at least 30s, as in 10m", spec)
	}
	// The first part of the load warms caches and pools up; growth is
	// measured from its end.
	warmup := d / 6
	every := max(d/30, 5*time.Second)

	p, url := serve(t, "--data", t.TempDir())
	pid := p.cmd.Process.Pid
	g := prepareLoad(t, url)
	idle := sampleProcess(t, pid)
	rate := g.closedLoop(overloadClients, overloadMeasure).admittedRate() / 2
	t.Logf("idle after set-up: %s; load: %.0f requests/s (half the sustainable rate) for %s", idle, rate, d)

	pool := g.newPool(soakConnections)
	var wg sync.WaitGroup
	var load *loadResult
	wg.Go(func() { load = pool.openLoop(rate, d) })
	streams := make(chan error, 1)
	stop := make(chan struct{})
	wg.Go(func() { streams <- g.churnStreams(stop) })

	begin := time.Now()
	var samples []soakSample
	for next := every; next <= d; next += every {
		time.Sleep(time.Until(begin.Add(next)))
		s := sampleProcess(t, pid)
		s.at = next
		samples = append(samples, s)
		t.Logf("%8s: %s", next, s)
	}
	close(stop)
	wg.Wait()
	if err := <-streams; err != nil {
		t.Error(err)
	}

	// The load's connections are closed: the server's files go back to
	// what they were before it.
	pool.close()
	after := sampleProcess(t, pid)
	for deadline := time.Now().Add(5 * time.Second); after.fds > idle.fds+soakFdSlack && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		after = sampleProcess(t, pid)
	}

	first := samples[0]
	for _, s := range samples {
		if s.at >= warmup {
			first = s
			break
		}
	}
	last := samples[len(samples)-1]
	t.Logf("soak of %s at %.0f requests/s: %s", d, load.offeredRate(), load.summary())
	t.Logf("after the warm-up (%s): %s", first.at, first)
	t.Logf("at the end (%s):       %s", last.at, last)
	t.Logf("idle again after the load: %s (before the load: %s)", after, idle)

	if load.failures > 0 || load.unexpected > 0 {
		t.Errorf("%d requests unanswered, %d answered other than 2xx, 429 or 503; first ones:\n%s", load.failures, load.unexpected, strings.Join(load.examples, "\n"))
	}
	if limit := first.rssKiB*3/2 + 16<<10; last.rssKiB > limit {
		t.Errorf("resident memory grew from %.1f MiB to %.1f MiB under steady load, want at most %.1f MiB", float64(first.rssKiB)/1024, float64(last.rssKiB)/1024, float64(limit)/1024)
	}
	if limit := 2*first.threads + 8; last.threads > limit {
		t.Errorf("threads grew from %d to %d under steady load, want at most %d", first.threads, last.threads, limit)
	}
	if limit := first.fds + 4*soakFdSlack; last.fds > limit {
		t.Errorf("open files grew from %d to %d under steady load, want at most %d", first.fds, last.fds, limit)
	}
	if after.fds > idle.fds+soakFdSlack {
		t.Errorf("%d open files once the load's connections closed, %d before the load: the server keeps files it no longer uses", after.fds, idle.fds)
	}
	p.stop()
}

// soakFdSlack allows for files that come and go: connections being
// closed, the database's journal.
const soakFdSlack = 8

// soakConnections is enough connections for half the sustainable rate.
const soakConnections = 256

// churnStreams opens an event stream that ends after a second, every two
// seconds until stop is closed, so that the soak covers subscribing and
// unsubscribing too.
func (g *loadTarget) churnStreams(stop <-chan struct{}) error {
	client := &http.Client{Timeout: overloadTimeout}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			if n == 0 {
				return fmt.Errorf("no event stream opened during the soak")
			}
			return nil
		case <-tick.C:
		}
		req, err := http.NewRequest("GET", g.url+"/api/v1/events?product="+overloadProduct+"&timeout=1", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+g.token)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("event stream %d: %w", n+1, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return fmt.Errorf("event stream %d: %d, %v", n+1, resp.StatusCode, err)
		}
	}
}
