// Package outbound makes the HTTP clients Northstar uses to call other
// servers (webhooks, the sign-in provider): each connection is checked
// where it is made, after DNS resolution and on every redirect, so a
// name that resolves to an internal address, or a redirect to one, is
// refused however the request got there.
package outbound

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Client returns a client whose connections go only to addresses that
// check accepts (it refuses with an error that says why), that gives up
// after timeout, and that follows at most maxRedirects redirects (0: the
// redirect is the answer).
func Client(check func(net.IP) error, timeout time.Duration, maxRedirects int) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		// Control runs for the address actually dialled, after the
		// resolver chose it: the check cannot be raced by DNS.
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil {
				return fmt.Errorf("dial %s: not an IP address", host)
			}
			return check(ip)
		},
	}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 5 * time.Second, MaxIdleConnsPerHost: 4, Proxy: nil}
	return &http.Client{
		Timeout:   timeout,
		Transport: transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}
