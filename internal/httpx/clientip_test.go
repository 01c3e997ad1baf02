package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.10")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		trusted    bool
		want       string
	}{
		{"no proxies trusted: the header is ignored", "203.0.113.7:4000", []string{"198.51.100.1"}, false, "203.0.113.7"},
		{"an untrusted peer's header is ignored", "203.0.113.7:4000", []string{"198.51.100.1"}, true, "203.0.113.7"},
		{"a trusted balancer names the client", "10.1.2.3:4000", []string{"198.51.100.1"}, true, "198.51.100.1"},
		{"a forged entry left of the client is not believed", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1"}, true, "198.51.100.1"},
		{"chained trusted proxies are skipped", "10.1.2.3:4000", []string{"198.51.100.1, 192.168.1.10", "10.9.9.9"}, true, "198.51.100.1"},
		{"all hops trusted: the first", "10.1.2.3:4000", []string{"10.0.0.5, 10.0.0.6"}, true, "10.0.0.5"},
		{"garbage ends the walk at the last good hop", "10.1.2.3:4000", []string{"not-an-ip, 10.0.0.6"}, true, "10.0.0.6"},
		{"no header: the peer", "10.1.2.3:4000", nil, true, "10.1.2.3"},
		{"IPv4-mapped IPv6 peers count as IPv4", "[::ffff:10.1.2.3]:4000", []string{"2001:db8::1"}, true, "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var proxies = trusted
			if !tc.trusted {
				proxies = nil
			}
			h := ClientAddress(proxies)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("client of peer %s with X-Forwarded-For %q = %s, want %s", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/8/2"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted it", bad)
		}
	}
}
