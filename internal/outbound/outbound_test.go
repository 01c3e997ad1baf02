package outbound

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var errRefused = errors.New("refused")

// counted is a test server that counts the requests it gets.
func counted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// refuse is a check that refuses one address.
func refuse(addr net.IP) func(net.IP) error {
	return func(ip net.IP) error {
		if ip.Equal(addr) {
			return errRefused
		}
		return nil
	}
}

func TestClientChecksTheAddressItDials(t *testing.T) {
	srv, hits := counted(t, nil)
	c := Client(func(ip net.IP) error {
		if ip.IsLoopback() {
			return errRefused
		}
		return nil
	}, 5*time.Second, 5)
	// A name, resolved by the dialer: the check sees the address.
	url := "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port) + "/"
	if _, err := c.Get(url); !errors.Is(err, errRefused) {
		t.Errorf("GET %s: %v, want the check's refusal", url, err)
	}
	if hits.Load() != 0 {
		t.Errorf("the refused server got %d requests", hits.Load())
	}
}

func TestClientChecksEveryRedirect(t *testing.T) {
	inside, insideHits := counted(t, nil)
	port := strconv.Itoa(inside.Listener.Addr().(*net.TCPAddr).Port)
	// 127.0.0.2 stands for an internal address: refused, while the
	// redirecting server on 127.0.0.1 is allowed.
	outside, outsideHits := counted(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.2:"+port+"/internal", http.StatusFound)
	})
	check := refuse(net.IPv4(127, 0, 0, 2))

	_, err := Client(check, 5*time.Second, 5).Get(outside.URL)
	if !errors.Is(err, errRefused) {
		t.Errorf("following a redirect to 127.0.0.2: %v, want the check's refusal", err)
	}
	if outsideHits.Load() != 1 || insideHits.Load() != 0 {
		t.Errorf("outside got %d requests, inside %d: want 1 and 0", outsideHits.Load(), insideHits.Load())
	}

	// With no redirects followed, the redirect is the answer.
	res, err := Client(check, 5*time.Second, 0).Get(outside.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || insideHits.Load() != 0 {
		t.Errorf("status %d, inside %d requests: want the redirect itself and none inside", res.StatusCode, insideHits.Load())
	}
}

func TestClientFollowsAtMostMaxRedirects(t *testing.T) {
	var srv *httptest.Server
	srv, hits := counted(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	})
	res, err := Client(func(net.IP) error { return nil }, 5*time.Second, 3).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || hits.Load() != 4 {
		t.Errorf("status %d after %d requests, want the 4th answer (a redirect) after 3 redirects", res.StatusCode, hits.Load())
	}
}
