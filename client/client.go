// Package client is a Go client of Northstar's REST API (/api/v1). The
// command-line client is built on it; programs and tests may use it too.
//
// Every method sends the token as "Authorization: Bearer <token>". An
// answer with an error status is returned as an *Error carrying the API's
// code and message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// maxResponse bounds how much of one answer the client reads.
const maxResponse = 64 << 20

// Client talks to one Northstar server.
type Client struct {
	// BaseURL is the server's address, as in "https://pm.example.com".
	BaseURL string
	// Token is the API token sent with every request; "" sends none.
	Token string
	// HTTP sends the requests; nil uses a client with a 30 s timeout.
	HTTP *http.Client
	// UserAgent names the program in the server's logs.
	UserAgent string
}

// New returns a client of the server at baseURL using token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Token: token, UserAgent: "northstar-client/" + northstar.Version}
}

// Error is an error answer of the API.
type Error struct {
	// Status is the HTTP status, as 404.
	Status int
	// Code is the API's error code, as "not_found".
	Code string
	// Message is the API's explanation, meant for people.
	Message string
	// Field names the input the error is about, if any.
	Field string
}

// Error returns the API's message.
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// IsStatus reports whether err is an API error with the HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// do sends one request. in, if not nil, is sent as JSON; a 2xx answer is
// decoded into out, if not nil. The answer's headers are returned.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	if base == "" {
		return nil, errors.New("no server address")
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, decodeError(resp.StatusCode, data)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.Header, fmt.Errorf("%s %s: the answer is not the JSON expected (is %s a Northstar server?): %w", method, path, base, err)
		}
	}
	return resp.Header, nil
}

// decodeError turns an error answer into an *Error, whether or not its
// body is the API's JSON error (a proxy in front may answer otherwise).
func decodeError(status int, data []byte) error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	e := &Error{Status: status}
	if json.Unmarshal(data, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
	} else {
		e.Message = fmt.Sprintf("the server answered %d %s", status, http.StatusText(status))
	}
	return e
}

// page is the JSON shape of a list.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// list fetches pages of path (whose query is q) until there are no more,
// or until max items have come (0: no bound).
func list[T any](ctx context.Context, c *Client, path string, q url.Values, max int) ([]T, error) {
	var all []T
	q = cloneValues(q)
	for {
		n := 200
		if max > 0 && max-len(all) < n {
			n = max - len(all)
		}
		q.Set("limit", strconv.Itoa(n))
		var p page[T]
		if _, err := c.do(ctx, "GET", path+"?"+q.Encode(), nil, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" || (max > 0 && len(all) >= max) {
			break
		}
		q.Set("cursor", p.NextCursor)
	}
	if all == nil {
		all = []T{}
	}
	return all, nil
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// CreateToken signs in with an e-mail address and password and returns a
// new API token named name, and the account it belongs to.
func (c *Client) CreateToken(ctx context.Context, email, password, name string) (string, *northstar.User, error) {
	var out struct {
		Token string          `json:"token"`
		User  *northstar.User `json:"user"`
	}
	in := map[string]string{"email": email, "password": password, "name": name}
	if _, err := c.do(ctx, "POST", "/api/v1/tokens", nil, in, &out); err != nil {
		return "", nil, err
	}
	if out.Token == "" {
		return "", nil, errors.New("the server answered without a token")
	}
	return out.Token, out.User, nil
}

// Me returns the account the token belongs to.
func (c *Client) Me(ctx context.Context) (*northstar.User, error) {
	var u northstar.User
	if _, err := c.do(ctx, "GET", "/api/v1/me", nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Products lists the products the account can see, ordered by key;
// archived ones too when archived is true.
func (c *Client) Products(ctx context.Context, archived bool) ([]*northstar.Product, error) {
	q := url.Values{}
	if archived {
		q.Set("archived", "true")
	}
	return list[*northstar.Product](ctx, c, "/api/v1/products", q, 0)
}

// Story is a story as the API shows it: the stored fields and what the
// server computes from them.
type Story struct {
	northstar.Story
	Sentence      string   `json:"sentence"`
	Ready         bool     `json:"ready"`
	ReadyProblems []string `json:"ready_problems"`
	CriteriaMet   int      `json:"criteria_met"`
	TasksDone     int      `json:"tasks_done"`
}

// StoryFilter selects stories of a backlog. Empty fields select all.
type StoryFilter struct {
	Statuses []string
	Types    []string
	Assignee string // an e-mail address, or "none"
	Label    string
	Query    string
	// Limit bounds how many stories come back; 0 fetches every page.
	Limit int
}

// Stories lists a product's backlog in rank order.
func (c *Client) Stories(ctx context.Context, productKey string, f StoryFilter) ([]*Story, error) {
	q := url.Values{}
	if len(f.Statuses) > 0 {
		q.Set("status", strings.Join(f.Statuses, ","))
	}
	if len(f.Types) > 0 {
		q.Set("type", strings.Join(f.Types, ","))
	}
	for k, v := range map[string]string{"assignee": f.Assignee, "label": f.Label, "q": f.Query} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return list[*Story](ctx, c, "/api/v1/products/"+url.PathEscape(productKey)+"/stories", q, f.Limit)
}

// Story returns one story by its ref, as "BOOK-42".
func (c *Client) Story(ctx context.Context, ref string) (*Story, error) {
	var s Story
	if _, err := c.do(ctx, "GET", "/api/v1/stories/"+url.PathEscape(ref), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateStory adds a story to a product's backlog.
func (c *Client) CreateStory(ctx context.Context, productKey string, in northstar.NewStory) (*Story, error) {
	var s Story
	if _, err := c.do(ctx, "POST", "/api/v1/products/"+url.PathEscape(productKey)+"/stories", nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// StoryChange is a change to a story: the API's field names and their new
// values; a nil value clears a field that may be empty (points, assignee,
// feature).
type StoryChange map[string]any

// UpdateStory changes a story. A version above 0 is sent as If-Match, so
// that the change is refused (409) if someone changed the story since.
func (c *Client) UpdateStory(ctx context.Context, ref string, version int, change StoryChange) (*Story, error) {
	h := http.Header{}
	if version > 0 {
		h.Set("If-Match", `"`+strconv.Itoa(version)+`"`)
	}
	var s Story
	if _, err := c.do(ctx, "PATCH", "/api/v1/stories/"+url.PathEscape(ref), h, change, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// MoveStory moves a story in its backlog: before or after another story,
// or to position "top" or "bottom". Exactly one of the three is given.
func (c *Client) MoveStory(ctx context.Context, ref string, m northstar.Move) (*Story, error) {
	var s Story
	if _, err := c.do(ctx, "POST", "/api/v1/stories/"+url.PathEscape(ref)+"/move", nil, m, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// AddFeedback records what an end user said about a product.
func (c *Client) AddFeedback(ctx context.Context, productKey string, in northstar.FeedbackInput) (*northstar.Feedback, error) {
	var f northstar.Feedback
	if _, err := c.do(ctx, "POST", "/api/v1/products/"+url.PathEscape(productKey)+"/feedback", nil, in, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// FeedbackList lists a product's feedback, newest first; limit bounds how
// many come back (0: all).
func (c *Client) FeedbackList(ctx context.Context, productKey string, limit int) ([]*northstar.Feedback, error) {
	return list[*northstar.Feedback](ctx, c, "/api/v1/products/"+url.PathEscape(productKey)+"/feedback", url.Values{}, limit)
}
