// Package oidc is the relying-party side of OpenID Connect that Northstar
// needs to sign people in with any provider: discovery, the authorization
// code flow with PKCE, the token exchange, and verification of RS256 ID
// tokens against the provider's published keys (JWKS), re-read when the
// provider rotates them. It uses the standard library only; what to do
// with a verified identity is decided by the app.
package oidc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBody bounds the documents read from a provider.
const maxBody = 1 << 20

// DefaultSkew is the clock difference tolerated between Northstar and the
// provider when checking exp and iat.
const DefaultSkew = 2 * time.Minute

// Error is a sign-in refused for a reason the person signing in can be
// told about (as opposed to a provider that cannot be reached).
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func refuse(format string, args ...any) error { return &Error{Message: fmt.Sprintf(format, args...)} }

// Config describes the provider and this client's registration with it.
type Config struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string // "" for a public client (PKCE only)
	RedirectURL  string
	// Scopes are asked for besides "openid"; default "email profile".
	Scopes []string
	// HTTP sends requests to the provider; nil uses a client with a 15 s
	// timeout.
	HTTP *http.Client
	// Skew is the tolerated clock difference; 0 means DefaultSkew.
	Skew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Provider is a discovered OpenID Connect provider.
type Provider struct {
	cfg       Config
	metadata  Metadata
	keys      *keySet
	postCreds bool // send the client secret in the form rather than Basic
}

// Metadata is the part of the discovery document Northstar uses.
type Metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
}

func (c *Config) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Discover reads the provider's discovery document and checks that it is
// the issuer configured: a document naming another issuer is refused, as
// the specification asks.
func Discover(ctx context.Context, cfg Config) (*Provider, error) {
	cfg.Issuer = strings.TrimSuffix(strings.TrimSpace(cfg.Issuer), "/")
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oidc: issuer %q is not an https:// URL", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oidc: a client ID is required")
	}
	if r, err := url.Parse(cfg.RedirectURL); err != nil || r.Scheme == "" || r.Host == "" {
		return nil, fmt.Errorf("oidc: redirect URL %q is not an absolute URL", cfg.RedirectURL)
	}
	var md Metadata
	if err := getJSON(ctx, cfg.client(), cfg.Issuer+"/.well-known/openid-configuration", &md); err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	if strings.TrimSuffix(md.Issuer, "/") != cfg.Issuer {
		return nil, fmt.Errorf("oidc: discovery: the document names issuer %q, not %q", md.Issuer, cfg.Issuer)
	}
	// Keep the issuer exactly as the provider writes it: ID tokens carry
	// that spelling.
	cfg.Issuer = md.Issuer
	for name, v := range map[string]string{"authorization_endpoint": md.AuthorizationEndpoint, "token_endpoint": md.TokenEndpoint, "jwks_uri": md.JWKSURI} {
		if e, err := url.Parse(v); err != nil || (e.Scheme != "https" && e.Scheme != "http") || e.Host == "" {
			return nil, fmt.Errorf("oidc: discovery: %s %q is not a URL", name, v)
		}
	}
	if len(md.SigningAlgs) > 0 && !slices.Contains(md.SigningAlgs, "RS256") {
		return nil, fmt.Errorf("oidc: the provider signs ID tokens with %v; Northstar verifies RS256 only", md.SigningAlgs)
	}
	p := &Provider{cfg: cfg, metadata: md, keys: &keySet{url: md.JWKSURI, client: cfg.client()}}
	// client_secret_basic is the default; use the form only when the
	// provider says it takes nothing else.
	p.postCreds = len(md.TokenAuthMethods) > 0 && !slices.Contains(md.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(md.TokenAuthMethods, "client_secret_post")
	return p, nil
}

// Metadata returns the provider's discovery document.
func (p *Provider) Metadata() Metadata { return p.metadata }

// Issuer returns the provider's issuer, as its ID tokens name it.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Flow is one sign-in attempt's secrets: they are kept by the browser in a
// short-lived cookie between the redirect to the provider and the way back.
type Flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // the PKCE code verifier
}

// NewFlow returns fresh random state, nonce and PKCE verifier.
func NewFlow() Flow {
	return Flow{State: random(24), Nonce: random(24), Verifier: random(32)}
}

// random returns n random bytes, base64url-encoded.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenge is the PKCE S256 challenge of a verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthURL returns the provider's page where the person signs in.
func (p *Provider) AuthURL(f Flow) string {
	scopes := p.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile"}
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {p.cfg.ClientID},
		"redirect_uri":          {p.cfg.RedirectURL},
		"scope":                 {strings.Join(append([]string{"openid"}, scopes...), " ")},
		"state":                 {f.State},
		"nonce":                 {f.Nonce},
		"code_challenge":        {challenge(f.Verifier)},
		"code_challenge_method": {"S256"},
	}
	sep := "?"
	if strings.Contains(p.metadata.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	return p.metadata.AuthorizationEndpoint + sep + q.Encode()
}

// CheckState compares the state that came back with the flow's, in
// constant time.
func (f Flow) CheckState(got string) error {
	if f.State == "" || got == "" || subtle.ConstantTimeCompare([]byte(f.State), []byte(got)) != 1 {
		return refuse("The sign-in answer does not belong to this browser's sign-in (state mismatch); start again.")
	}
	return nil
}

// Claims are the verified claims of an ID token that Northstar uses.
type Claims struct {
	Issuer            string
	Subject           string
	Email             string
	EmailVerified     bool
	Name              string
	PreferredUsername string
	// Raw holds every claim, for configurable claim names.
	Raw map[string]any
}

// Exchange trades an authorization code for tokens and returns the
// verified claims of the ID token. The nonce must be the flow's.
func (p *Provider) Exchange(ctx context.Context, f Flow, code string) (*Claims, error) {
	if code == "" {
		return nil, refuse("The provider sent no authorization code.")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {p.cfg.RedirectURL},
		"code_verifier": {f.Verifier},
	}
	if p.cfg.ClientSecret == "" || p.postCreds {
		form.Set("client_id", p.cfg.ClientID)
		if p.cfg.ClientSecret != "" {
			form.Set("client_secret", p.cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, "POST", p.metadata.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.cfg.ClientSecret != "" && !p.postCreds {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.cfg.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: token exchange: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("oidc: token exchange: %w", err)
	}
	var tok struct {
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tok); err != nil && resp.StatusCode == http.StatusOK {
		return nil, fmt.Errorf("oidc: token exchange: the answer is not JSON: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if tok.Error == "invalid_grant" {
			// An expired, used or forged code: the person can start over.
			return nil, refuse("The provider refused the sign-in code (it may have expired or been used already); start again.")
		}
		msg := tok.Error
		if tok.ErrorDescription != "" {
			msg += ": " + tok.ErrorDescription
		}
		if msg == "" {
			msg = resp.Status
		}
		return nil, fmt.Errorf("oidc: token exchange: %s", msg)
	}
	if tok.IDToken == "" {
		return nil, errors.New("oidc: token exchange: the provider sent no id_token")
	}
	return p.Verify(ctx, tok.IDToken, f.Nonce)
}

// Verify checks an ID token: an RS256 signature by one of the provider's
// keys, the issuer, this client as audience (and authorized party when
// there are several), the expiry and issue time with some clock skew, and
// the nonce.
func (p *Provider) Verify(ctx context.Context, rawToken, nonce string) (*Claims, error) {
	parts := strings.Split(rawToken, ".")
	if len(parts) != 3 {
		return nil, refuse("The ID token is malformed.")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, refuse("The ID token's header is malformed.")
	}
	// Only RS256: "none" and HMAC with the public key as secret are the
	// classic ways to forge a token.
	if header.Alg != "RS256" {
		return nil, refuse("The ID token is signed with %q; only RS256 is accepted.", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, refuse("The ID token's signature is malformed.")
	}
	key, err := p.keys.key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return nil, refuse("The ID token's signature is not valid.")
	}

	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(mustDecode(parts[1])))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, refuse("The ID token's claims are malformed.")
	}
	c := &Claims{Raw: raw}
	c.Issuer, _ = raw["iss"].(string)
	c.Subject, _ = raw["sub"].(string)
	c.Email, _ = raw["email"].(string)
	c.Name, _ = raw["name"].(string)
	c.PreferredUsername, _ = raw["preferred_username"].(string)
	switch v := raw["email_verified"].(type) {
	case bool:
		c.EmailVerified = v
	case string: // some providers send "true"
		c.EmailVerified = v == "true"
	}
	if c.Issuer != p.cfg.Issuer {
		return nil, refuse("The ID token was issued by %q, not by the configured provider.", c.Issuer)
	}
	if c.Subject == "" {
		return nil, refuse("The ID token names no subject.")
	}
	var auds []string
	switch v := raw["aud"].(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	if !slices.Contains(auds, p.cfg.ClientID) {
		return nil, refuse("The ID token is meant for another application (audience %v).", auds)
	}
	if azp, ok := raw["azp"].(string); ok && azp != p.cfg.ClientID || len(auds) > 1 && !ok {
		return nil, refuse("The ID token was issued to another application (authorized party %q).", azp)
	}
	skew := p.cfg.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	now := p.cfg.now()
	exp, okExp := numericDate(raw["exp"])
	iat, okIat := numericDate(raw["iat"])
	if !okExp || !okIat {
		return nil, refuse("The ID token lacks an expiry or issue time.")
	}
	if now.After(exp.Add(skew)) {
		return nil, refuse("The ID token expired at %s; sign in again.", exp.UTC().Format(time.RFC3339))
	}
	if iat.After(now.Add(skew)) {
		return nil, refuse("The ID token was issued in the future (%s); check the clocks.", iat.UTC().Format(time.RFC3339))
	}
	got, _ := raw["nonce"].(string)
	if nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, refuse("The ID token does not belong to this sign-in (nonce mismatch); start again.")
	}
	return c, nil
}

// numericDate reads a JWT NumericDate (seconds since 1970, maybe with a
// fraction).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func mustDecode(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// keySet is the provider's RSA signing keys by key ID.
type keySet struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// keysMaxAge is how long the keys are used before they are read again, so
// that a key the provider withdrew stops verifying within that time.
const keysMaxAge = time.Hour

// key returns the key with the ID kid. A kid not seen before makes the
// set be read again, which is how rotation is noticed: ID tokens arrive
// only from the provider's token endpoint, so an unknown kid means a new
// key, not someone probing. The mutex lets one read run at a time.
func (ks *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k := ks.pick(kid); k != nil && time.Since(ks.fetched) < keysMaxAge {
		return k, nil
	}
	if err := ks.fetch(ctx); err != nil {
		return nil, err
	}
	if k := ks.pick(kid); k != nil {
		return k, nil
	}
	return nil, refuse("The ID token is signed with a key the provider does not publish (key ID %q).", kid)
}

// pick returns the key kid; with no kid, the only key if there is one.
func (ks *keySet) pick(kid string) *rsa.PublicKey {
	if kid == "" && len(ks.keys) == 1 {
		for _, k := range ks.keys {
			return k
		}
	}
	return ks.keys[kid]
}

func (ks *keySet) fetch(ctx context.Context) error {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := getJSON(ctx, ks.client, ks.url, &doc); err != nil {
		return fmt.Errorf("oidc: read the provider's keys: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 || len(n) < 256 {
			continue // malformed, or under 2048 bits
		}
		exp := new(big.Int).SetBytes(e)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
	}
	ks.keys, ks.fetched = keys, time.Now()
	return nil
}

// getJSON reads a JSON document.
func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
