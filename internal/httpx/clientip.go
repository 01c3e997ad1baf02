package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The client's address decides the per-address limits (sign-in attempts,
// the public portal) and goes into the log and the audit events. Behind a
// load balancer every request comes from the balancer: all clients would
// share one budget, and one attacker could lock everyone out of password
// sign-in. X-Forwarded-For names the client, but any client can send it,
// so it is believed only as far as the proxies the operator trusts.

type clientIPKey struct{}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// ranges (10.0.0.0/8, 192.168.1.10, fd00::/8).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or a CIDR range", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or a CIDR range", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ClientAddress finds each request's client address once, for ClientIP:
// the peer's address, or, when the peer is a trusted proxy, the last
// address in X-Forwarded-For that is not a trusted proxy itself (the
// first hop a trusted proxy saw; addresses left of it are the client's to
// forge).
func ClientAddress(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := peerIP(r)
			if len(trusted) > 0 {
				if a, err := netip.ParseAddr(ip); err == nil && isTrusted(a) {
					ip = forwardedClient(r.Header.Values("X-Forwarded-For"), isTrusted, ip)
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
		})
	}
}

// forwardedClient walks X-Forwarded-For from the right (the hop nearest to
// us) past the trusted proxies; an unreadable entry ends the walk there.
func forwardedClient(headers []string, isTrusted func(netip.Addr) bool, peer string) string {
	var hops []string
	for _, h := range headers {
		for _, f := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(f))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return client
		}
		client = a.Unmap().String()
		if !isTrusted(a) {
			return client
		}
	}
	return client
}

// ClientIP returns the client's address: as ClientAddress found it, or
// else the peer's. Forwarded headers count only from trusted proxies.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return peerIP(r)
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
