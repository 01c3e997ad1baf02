package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// provider serves discovery and keys; doc may change what discovery says.
func provider(t *testing.T, key *rsa.PrivateKey, kid string, doc func(m map[string]any)) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		m := map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth?tenant=x",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks"}
		if doc != nil {
			doc(m)
		}
		json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": kid, "n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		_, _, basic := r.BasicAuth()
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client", "error_description": map[bool]string{true: "basic", false: "post:" + r.PostForm.Get("client_secret")}[basic]})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func sign(t *testing.T, k *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVerify(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := provider(t, key, "", nil)
	now := time.Unix(1_800_000_000, 0)
	p, err := Discover(context.Background(), Config{Issuer: srv.URL + "/", ClientID: "app", RedirectURL: "https://ns.example/cb", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if u := p.AuthURL(NewFlow()); !strings.HasPrefix(u, srv.URL+"/auth?tenant=x&") {
		t.Errorf("AuthURL %q does not keep the endpoint's own query", u)
	}
	base := func() map[string]any {
		return map[string]any{"iss": srv.URL, "sub": "s", "aud": "app", "nonce": "n", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	tests := []struct {
		name   string
		change func(h, c map[string]any)
		want   string // "" for success
	}{
		{"plain", nil, ""},
		{"no kid, one key", func(h, c map[string]any) { delete(h, "kid") }, ""},
		{"several audiences with azp", func(h, c map[string]any) { c["aud"] = []string{"other", "app"}; c["azp"] = "app" }, ""},
		{"azp of another app", func(h, c map[string]any) { c["azp"] = "other" }, "another application"},
		{"within skew", func(h, c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }, ""},
		{"fractional times", func(h, c map[string]any) { c["iat"] = float64(now.Unix()) + 0.5 }, ""},
		{"exp as text", func(h, c map[string]any) { c["exp"] = "soon" }, "lacks an expiry"},
		{"no subject", func(h, c map[string]any) { delete(c, "sub") }, "no subject"},
		{"kid unknown", func(h, c map[string]any) { h["kid"] = "x" }, "does not publish"},
	}
	for _, tt := range tests {
		h, c := map[string]any{"alg": "RS256"}, base()
		if tt.change != nil {
			tt.change(h, c)
		}
		_, err := p.Verify(context.Background(), sign(t, key, h, c), "n")
		var re *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &re) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want a refusal saying %q", tt.name, err, tt.want)
		}
	}
	// Keys are read again after keysMaxAge: a withdrawn key stops
	// verifying.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.keys.url = provider(t, other, "", nil).URL + "/jwks"
	good := sign(t, key, map[string]any{"alg": "RS256"}, base())
	if _, err := p.Verify(context.Background(), good, "n"); err != nil {
		t.Errorf("a fresh key set was read again: %v", err)
	}
	p.keys.fetched = p.keys.fetched.Add(-keysMaxAge)
	if _, err := p.Verify(context.Background(), good, "n"); err == nil || !strings.Contains(err.Error(), "signature is not valid") {
		t.Errorf("a withdrawn key still verifies: %v", err)
	}
	for _, raw := range []string{"", "a.b", "a.b.c.d", "!!.!!.!!", sign(t, key, map[string]any{"alg": "RS256"}, base()) + "x"} {
		if _, err := p.Verify(context.Background(), raw, "n"); err == nil {
			t.Errorf("Verify(%q) succeeded", raw)
		}
	}
}

func TestDiscover(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(srv *httptest.Server) Config {
		return Config{Issuer: srv.URL, ClientID: "app", ClientSecret: "sec", RedirectURL: "https://ns.example/cb"}
	}
	for _, tt := range []struct {
		name string
		doc  func(m map[string]any)
		want string
	}{
		{"another issuer", func(m map[string]any) { m["issuer"] = "https://evil.example" }, "names issuer"},
		{"no RS256", func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []string{"ES256"} }, "RS256 only"},
		{"no token endpoint", func(m map[string]any) { delete(m, "token_endpoint") }, "token_endpoint"},
	} {
		srv := provider(t, key, "k", tt.doc)
		if _, err := Discover(context.Background(), cfg(srv)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := Discover(context.Background(), Config{Issuer: "ftp://x", ClientID: "a", RedirectURL: "https://x/cb"}); err == nil {
		t.Error("an ftp issuer was accepted")
	}

	// The client secret goes as Basic by default and in the form only
	// when the provider takes nothing else.
	for _, tt := range []struct {
		methods []string
		want    string
	}{
		{nil, "basic"},
		{[]string{"client_secret_basic", "client_secret_post"}, "basic"},
		{[]string{"client_secret_post"}, "post:sec"},
	} {
		srv := provider(t, key, "k", func(m map[string]any) {
			if tt.methods != nil {
				m["token_endpoint_auth_methods_supported"] = tt.methods
			}
		})
		p, err := Discover(context.Background(), cfg(srv))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Exchange(context.Background(), NewFlow(), "code")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("methods %v: %v, want the secret sent as %s", tt.methods, err, tt.want)
		}
	}
}
