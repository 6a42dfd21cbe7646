package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/devidp"
	"github.com/budgetgate/budgetgate/errorbudget"
)

// TestSeparationOfDuties signs people in through the real OIDC flow. A
// board member who is also an admin makes a gate token on /tokens and
// opens a request with it: the request is his, and he may not vote on it.
// A release whose requested_by names a board member (by email or
// username) may not be approved by that member either. Others still may.
func TestSeparationOfDuties(t *testing.T) {
	olgaUser := devidp.User{Subject: "ccb-olga", Name: "Olga Ivanova", Email: "olga@example.test", Groups: []string{"ccb", "admin"}}
	s := newTestServerFor(t, func() time.Time { return time.Now().UTC() }, nil, append(slices.Clone(devidp.DemoUsers), olgaUser))
	ci, _, err := s.Store.CreateToken(context.Background(), "ci", budgetgate.TokenScopes, budgetgate.SystemActor)
	if err != nil {
		t.Fatal(err)
	}

	// Olga makes a token of her own on the dashboard.
	olga := s.signIn(t, "ccb-olga")
	_, page := get(t, olga, s.URL+"/tokens")
	resp, page := postForm(t, olga, s.URL+"/tokens", url.Values{"csrf": {csrfOf(t, page)}, "name": {"olga-laptop"}, "scopes": {"gate", "read"}})
	secret := regexp.MustCompile(`bgt_[A-Za-z0-9]+`).FindString(page)
	if resp.StatusCode != http.StatusOK || secret == "" {
		t.Fatalf("token page: %d, no secret shown", resp.StatusCode)
	}
	if _, list := get(t, olga, s.URL+"/tokens"); !strings.Contains(list, "belongs to Olga Ivanova") {
		t.Error("the token list does not say whose the new token is")
	}
	toks, err := s.Store.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if want := tok.Name == "olga-laptop"; tok.HasOwner() != want || (want && tok.Owner.Subject != "ccb-olga") {
			t.Errorf("token %q: owner %+v", tok.Name, tok.Owner)
		}
	}

	// open evaluates a release with token and opens its request with the
	// same token.
	open := func(token, version, requestedBy string) (int64, budgetgate.Actor) {
		t.Helper()
		var dec errorbudget.Decision
		body := fmt.Sprintf(`{"service":"ledger","version":%q,"requested_by":%q}`, version, requestedBy)
		apiJSON(t, "POST", s.URL+"/api/v1/releases/evaluate", token, body, &dec)
		if dec.ID == 0 || dec.Approved {
			t.Fatalf("want a denied release: %+v", dec)
		}
		var e struct {
			ID        int64            `json:"id"`
			Requester budgetgate.Actor `json:"requester"`
		}
		resp := apiJSON(t, "POST", s.URL+"/api/v1/exceptions", token, fmt.Sprintf(`{"decision_id":%d,"reason":"Needed tonight."}`, dec.ID), &e)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("open request: %d", resp.StatusCode)
		}
		return e.ID, e.Requester
	}
	ownID, requester := open(secret, "3.0", "")
	if requester.Subject != "ccb-olga" || requester.Name != "Olga Ivanova" {
		t.Errorf("request opened with Olga's token names %+v as requester, want Olga", requester)
	}
	byEmail, _ := open(ci, "3.1", "bruno@example.test")
	byUsername, _ := open(ci, "3.2", "CCB-Bruno")

	alice, bruno := s.signIn(t, "ccb-alice"), s.signIn(t, "ccb-bruno")
	tests := []struct {
		name    string
		c       *http.Client
		id      int64
		refused string // "" when the vote must go through
	}{
		{"the token's owner may not vote", olga, ownID, "opened request"},
		{"requested_by by email may not vote", bruno, byEmail, "which is you"},
		{"requested_by by username may not vote", bruno, byUsername, "which is you"},
		{"another member votes on the token's request", alice, ownID, ""},
		{"another member votes on the requested_by one", olga, byEmail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqURL := fmt.Sprintf("%s/ccb/%d", s.URL, tt.id)
			_, page := get(t, tt.c, reqURL)
			offered := hasTestID(page, "vote-form")
			if offered != (tt.refused == "") {
				t.Errorf("vote form offered: %v", offered)
			}
			if tt.refused != "" && !strings.Contains(page, tt.refused) {
				t.Errorf("the page does not say why: want %q", tt.refused)
			}
			resp, body := postForm(t, tt.c, reqURL+"/votes", url.Values{"csrf": {csrfOf(t, page)}, "decision": {"approve"}})
			switch {
			case tt.refused == "" && resp.StatusCode != http.StatusSeeOther:
				t.Errorf("vote: %d, want it counted", resp.StatusCode)
			case tt.refused != "" && (resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tt.refused)):
				t.Errorf("vote: %d, want 403 saying %q", resp.StatusCode, tt.refused)
			}
		})
	}

	// The owner's token still acts for her on her own request.
	var e struct{ Status string }
	resp = apiJSON(t, "POST", fmt.Sprintf("%s/api/v1/exceptions/%d/cancel", s.URL, byUsername), secret, "", &e)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Olga's token cancels another's request: %d", resp.StatusCode)
	}
	var got json.RawMessage
	if resp := apiJSON(t, "GET", fmt.Sprintf("%s/api/v1/exceptions/%d", s.URL, ownID), secret, "", &got); resp.StatusCode != http.StatusOK {
		t.Errorf("read own request: %d", resp.StatusCode)
	}
}
