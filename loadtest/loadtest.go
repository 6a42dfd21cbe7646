// Package loadtest drives a budgetgate server over HTTP the way a fleet of
// services and CI jobs would, and measures it: SLI ingest throughput,
// release-evaluation and page latencies. The benchmarks in this package use
// it against a server started in-process; it works against any URL.
package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Client posts and gets with a shared connection pool.
type Client struct {
	URL   string
	Token string
	HTTP  *http.Client
}

// NewClient returns a client whose pool fits the given concurrency. It
// keeps cookies (for pages, after SignInDev) and follows no redirects, so
// that every answer is measured as it is.
func NewClient(url, token string, concurrency int) *Client {
	tr := &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}
	jar, _ := cookiejar.New(nil)
	return &Client{URL: url, Token: token, HTTP: &http.Client{Transport: tr, Timeout: time.Minute, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SignInDev signs in as a demo user of the development identity provider,
// through the real authorisation-code flow, so that pages can be loaded.
func (c *Client) SignInDev(ctx context.Context, subject string) error {
	location := func(u string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 {
			return "", fmt.Errorf("GET %s: %s, want a redirect", u, resp.Status)
		}
		return resp.Header.Get("Location"), nil
	}
	authorize, err := location(c.URL + "/login")
	if err != nil {
		return err
	}
	callback, err := location(authorize + "&login_as=" + subject)
	if err != nil {
		return err
	}
	_, err = location(callback)
	return err
}

// Do sends a request and fails unless the status is wantStatus.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, wantStatus int) error {
	return c.DoAt(ctx, c.URL, method, path, body, wantStatus)
}

// DoAt is Do against another server of the same cluster (base URL), with
// the same token.
func (c *Client) DoAt(ctx context.Context, base, method, path string, body []byte, wantStatus int) error {
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// SLIBatch renders n per-minute events for one service ending at end, in
// the API's JSON form. Every 50th minute has a few bad events.
func SLIBatch(end time.Time, n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 64)
	b.WriteString(`{"events":[`)
	start := end.Add(-time.Duration(n-1) * time.Minute)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		good := 1000
		if i%50 == 0 {
			good = 997
		}
		b.WriteString(`{"time":"`)
		b.WriteString(start.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339))
		b.WriteString(`","good":`)
		b.WriteString(strconv.Itoa(good))
		b.WriteString(`,"total":1000}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// Job is one request of a load run.
type Job struct {
	URL          string // the server's base URL; the client's when empty
	Method, Path string
	Body         []byte
	Status       int
}

// Result summarises a load run.
type Result struct {
	Requests  int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
}

// Quantile returns the q-quantile (0..1) of the latencies.
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// Run sends jobs with the given number of concurrent workers and records
// each request's latency. The first failure stops the run.
func (c *Client) Run(ctx context.Context, concurrency int, jobs []Job) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	lat := make([]time.Duration, len(jobs))
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := jobs[i]
				t0 := time.Now()
				base := j.URL
				if base == "" {
					base = c.URL
				}
				if err := c.DoAt(ctx, base, j.Method, j.Path, j.Body, j.Status); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	r := Result{Requests: len(jobs), Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(r.Latencies)
	return r, firstErr
}
