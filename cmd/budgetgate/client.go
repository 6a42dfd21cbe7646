package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/budgetgate/budgetgate/ccb"
)

// The CLI's one way to talk to a budgetgate server: bearer token from
// BUDGETGATE_TOKEN, JSON both ways, the server's error message in Go errors.

// errClient marks answers that retrying will not change (4xx but 429).
var errClient = errors.New("refused")

// requestTimeout bounds one call; waiting for the CCB is many calls.
const requestTimeout = 60 * time.Second

// apiCall makes one request. body, when not nil, goes as JSON ([]byte as
// it is). A non-2xx answer is an error with the server's message, wrapping
// errClient for 4xx but 429; Retry-After comes back either way.
func apiCall(ctx context.Context, method, url string, body any) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var payload io.Reader
	if body != nil {
		raw, ok := body.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return nil, 0, err
			}
		}
		payload = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, payload)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if tok := os.Getenv("BUDGETGATE_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, err
	}
	retry := retryAfter(resp.Header.Get("Retry-After"))
	if resp.StatusCode/100 == 2 {
		return data, retry, nil
	}
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
		if e.Error.Field != "" {
			msg = e.Error.Field + ": " + msg
		}
	}
	err = fmt.Errorf("server answered %s: %s", resp.Status, msg)
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
		err = fmt.Errorf("%w: %w", errClient, err)
	}
	return data, retry, err
}

// postJSON posts v and decodes the answer into out, returning it raw too.
func postJSON(ctx context.Context, url string, v, out any) ([]byte, error) {
	raw, _, err := apiCall(ctx, http.MethodPost, url, v)
	if err != nil {
		return nil, err
	}
	return raw, json.Unmarshal(raw, out)
}

// getJSON gets url into out and returns the Retry-After asked for.
func getJSON(ctx context.Context, url string, out any) (time.Duration, error) {
	raw, retry, err := apiCall(ctx, http.MethodGet, url, nil)
	if err != nil {
		return retry, err
	}
	return retry, json.Unmarshal(raw, out)
}

func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(min(s, 300)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(0, time.Until(t)), 5*time.Minute)
	}
	return 0
}

// exceptionReply is the part of a CCB request the CLI uses.
type exceptionReply struct {
	ID         int64                `json:"id"`
	Status     ccb.ExceptionStatus  `json:"status"`
	Expiry     *time.Time           `json:"expiry"`
	Subject    ccb.ExceptionSubject `json:"subject"`
	Votes      []ccb.Vote           `json:"votes"`
	Conditions []string             `json:"conditions"`
}

// pollException waits for the CCB to decide request id: polls from
// firstDelay doubling to 30s, honouring a longer Retry-After, and keeps
// trying through transient errors (the server may be restarting) until
// wait is over. It returns the request as last seen; still pending means
// the wait ran out. A refused poll (4xx) is an error.
func pollException(ctx context.Context, server string, id int64, wait, firstDelay time.Duration, log io.Writer) (exceptionReply, error) {
	var e exceptionReply
	deadline := time.Now().Add(wait)
	delay := max(firstDelay, 100*time.Millisecond)
	url := fmt.Sprintf("%s/api/v1/exceptions/%d", strings.TrimRight(server, "/"), id)
	for {
		retry, err := getJSON(ctx, url, &e)
		switch {
		case errors.Is(err, errClient):
			return e, err
		case err != nil:
			fmt.Fprintln(log, "polling:", err)
		case e.Status != ccb.ExceptionPending:
			return e, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			if err != nil {
				return e, err
			}
			return e, nil
		}
		select {
		case <-ctx.Done():
			return e, ctx.Err()
		case <-time.After(min(max(delay, retry), left)):
		}
		delay = min(2*delay, 30*time.Second)
	}
}
