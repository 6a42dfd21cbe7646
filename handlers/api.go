package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/labstack/echo/v4"
)

// BudgetStore is what the error-budget API needs from storage.
type BudgetStore interface {
	Idempotent(ctx context.Context, idem *app.Idempotency, write func(tx app.Tx) (app.Reply, error)) (app.Reply, bool, error)
	Policy(ctx context.Context, service string) (*errorbudget.Policy, error)
	ServiceMetrics(ctx context.Context, service string, now time.Time) (errorbudget.ServiceMetrics, *errorbudget.Policy, error)
	AllMetrics(ctx context.Context, now time.Time) ([]errorbudget.ServiceMetrics, error)
	Decision(ctx context.Context, id int64) (*errorbudget.Decision, error)
	Policies(ctx context.Context) (map[string]*errorbudget.Policy, error)
	app.PolicyReviewStore
}

// ReleaseEvaluator is the release gate's use case (app.Releases).
type ReleaseEvaluator interface {
	EvaluateOnce(ctx context.Context, rel errorbudget.Release, actor budgetgate.Actor, idem *app.Idempotency, reply func(*errorbudget.Decision) (app.Reply, error)) (app.Reply, bool, error)
}

// API serves the JSON API under /api/v1.
type API struct {
	Store     BudgetStore
	Releases  ReleaseEvaluator
	Now       func() time.Time
	Retention time.Duration
	// Ingested is told which service received data, so that escalations are
	// checked soon after without slowing the ingest path. May be nil.
	Ingested func(service string)
	// Decisions counts the release decisions made, for /metrics. May be nil.
	Decisions *DecisionCounts
}

// readBody reads the request body; the BodyLimit middleware has already
// capped its size.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, BodyReadError(err)
	}
	return body, nil
}

// BodyReadError says why a request body, JSON or form, could not be read:
// over the body limit (413), too slow (408), or broken off (400).
func BodyReadError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return budgetgate.Errorf(budgetgate.ETOOLARGE, "request body over %d bytes", tooLarge.Limit)
	}
	// Echo's body limit says so while reading a body sent without a
	// length (chunked); one with a length over the limit never gets here.
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
		return budgetgate.Errorf(budgetgate.ETOOLARGE, "request body over the server's limit")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's read deadline passed: the body came too slowly.
		return budgetgate.Errorf(budgetgate.ESLOWBODY, "the request body did not arrive within the server's read timeout")
	}
	return budgetgate.Errorf(budgetgate.EBADREQUEST, "reading body: %v", err)
}

// idempotency returns the request's Idempotency-Key scoped to its sender
// and to what it writes.
func idempotency(c echo.Context, scope string, body []byte) (*app.Idempotency, error) {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if len(key) > 255 {
		return nil, budgetgate.FieldErrorf("Idempotency-Key", "at most 255 characters")
	}
	// The key is the sender's: another token's identical key is another
	// key, so that no token can read or block another's answers.
	a := Actor(c)
	return &app.Idempotency{Scope: a.Issuer + " " + a.Subject + " " + scope, Key: key, Body: body}, nil
}

// replyJSON sends a stored or fresh reply.
func replyJSON(c echo.Context, status int, r app.Reply, replayed bool) error {
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.Blob(status, echo.MIMEApplicationJSONCharsetUTF8, r.Body)
}

// PostSLI handles POST /api/v1/services/:service/sli: counts for the
// service's only SLO.
func (a *API) PostSLI(c echo.Context) error { return a.postSLI(c, "", "sli:"+c.Param("service")) }

// PostSLOSLI handles POST /api/v1/services/:service/slos/:slo/sli.
func (a *API) PostSLOSLI(c echo.Context) error {
	return a.postSLI(c, c.Param("slo"), "sli:"+c.Param("service")+"/"+c.Param("slo"))
}

// postSLI adds posted counts to the SLO named slo ("" for the service's
// only one); scope keys its Idempotency-Key.
func (a *API) postSLI(c echo.Context, slo, scope string) error {
	service := c.Param("service")
	body, err := readBody(c)
	if err != nil {
		return err
	}
	events, err := DecodeSLI(body, a.Now(), a.Retention)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, scope, body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := a.Store.Policy(ctx, service)
	if err != nil {
		return err
	}
	s, err := p.IngestSLO(slo)
	if err != nil {
		return err
	}
	r, replayed, err := a.Store.Idempotent(ctx, idem, func(tx app.Tx) (app.Reply, error) {
		if err := tx.AddSLI(ctx, service, s.Name, events); err != nil {
			return app.Reply{}, err
		}
		body, err := json.Marshal(map[string]any{"service": service, "slo": s.Name, "accepted": len(events)})
		return app.Reply{Body: body}, err
	})
	if err != nil {
		return err
	}
	if !replayed && a.Ingested != nil {
		a.Ingested(service)
	}
	return replyJSON(c, http.StatusAccepted, r, replayed)
}

// ListServices handles GET /api/v1/services.
func (a *API) ListServices(c echo.Context) error {
	ms, err := a.Store.AllMetrics(c.Request().Context(), a.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"services": ms})
}

// ServiceStatus handles GET /api/v1/services/:service/status: the worst
// SLO's figures, with every SLO's under slos.
func (a *API) ServiceStatus(c echo.Context) error {
	sm, _, err := a.Store.ServiceMetrics(c.Request().Context(), c.Param("service"), a.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sm)
}

// SLOStatus handles GET /api/v1/services/:service/slos/:slo/status.
func (a *API) SLOStatus(c echo.Context) error {
	sm, p, err := a.Store.ServiceMetrics(c.Request().Context(), c.Param("service"), a.Now())
	if err != nil {
		return err
	}
	s, err := p.ResolveSLO(c.Param("slo"))
	if err != nil {
		return err
	}
	for _, m := range sm.SLOs {
		if m.SLO == s.Name {
			return c.JSON(http.StatusOK, m)
		}
	}
	return budgetgate.Errorf(budgetgate.EINTERNAL, "no figures for SLO %s of %s", s.Name, p.Service)
}

// EvaluateRelease handles POST /api/v1/releases/evaluate. Every answer but
// an approval means the release is blocked; anything unexpected is a 503 so
// the gate fails closed. A retry with the same Idempotency-Key gets the
// first decision rather than a second one.
func (a *API) EvaluateRelease(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	rel, err := DecodeRelease(body)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, "release:"+rel.Service, body)
	if err != nil {
		return err
	}
	var approved bool
	r, replayed, err := a.Releases.EvaluateOnce(c.Request().Context(), rel, Actor(c), idem, func(dec *errorbudget.Decision) (app.Reply, error) {
		approved = dec.Approved
		out, err := json.Marshal(dec)
		return app.Reply{Body: out}, err
	})
	if err != nil {
		if budgetgate.ErrorCode(err) == budgetgate.EINTERNAL {
			return &budgetgate.Error{Code: budgetgate.EUNAVAILABLE, Message: "the gate could not decide; treat the release as blocked"}
		}
		return err
	}
	if !replayed {
		a.Decisions.Add(rel.Service, approved)
	}
	return replyJSON(c, http.StatusOK, r, replayed)
}

// PutPolicy handles PUT /api/v1/services/:service/policy: the body is the
// policy file (YAML), in budgetgate's own form or a Sloth or OpenSLO
// document of the service's SLOs. A new version that loosens nothing
// becomes the service's policy in force (200); one that loosens a gate
// waits for a second person's review on the dashboard (202, with the
// pending change). Every version is kept.
func (a *API) PutPolicy(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	service := c.Param("service")
	p, err := readPolicy(c.Request().Context(), a.Store, service+".yaml", service, body)
	if err != nil {
		return err
	}
	if err := p.FitsRetention(a.Retention); err != nil {
		return err
	}
	out, err := (&app.PolicyReview{Store: a.Store}).Propose(c.Request().Context(), p, "api", Requester(c))
	if err != nil {
		return err
	}
	if ch := out.Change; ch != nil {
		return c.JSON(http.StatusAccepted, map[string]any{"service": service, "version": p.Version, "status": app.PolicyChangePending,
			"changed": out.Changed, "in_force": ch.BaseVersion, "change": ch,
			"review": fmt.Sprintf("/policies?service=%s#change-%d", url.QueryEscape(service), ch.ID)})
	}
	return c.JSON(http.StatusOK, map[string]any{"service": service, "version": p.Version, "status": "active", "changed": out.Changed})
}

// GetDecision handles GET /api/v1/decisions/:id.
func (a *API) GetDecision(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return budgetgate.FieldErrorf("id", "not a decision id")
	}
	dec, err := a.Store.Decision(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, dec)
}

// scopesKey is where the web layer puts the scopes of the calling token.
const scopesKey = "budgetgate.scopes"

// SetScopes records the scopes of the token the request came with.
func SetScopes(c echo.Context, scopes []string) { c.Set(scopesKey, scopes) }

// HasScope reports whether the request came with a token holding scope;
// a request without one holds none.
func HasScope(c echo.Context, scope string) bool {
	scopes, _ := c.Get(scopesKey).([]string)
	return slices.Contains(scopes, scope)
}

// actorKey is where the web layer puts who is calling.
const actorKey = "budgetgate.actor"

// SetActor records who is making the request; the web layer's authentication calls it.
func SetActor(c echo.Context, a budgetgate.Actor) { c.Set(actorKey, a) }

// Actor returns who is making the request, or an anonymous actor.
func Actor(c echo.Context) budgetgate.Actor {
	if a, ok := c.Get(actorKey).(budgetgate.Actor); ok {
		return a
	}
	return budgetgate.Actor{Issuer: "anonymous", Subject: c.RealIP(), Name: "anonymous"}
}

const ownerKey = "budgetgate.token_owner"

// SetOwner records the person the request's token belongs to.
func SetOwner(c echo.Context, a budgetgate.Actor) { c.Set(ownerKey, a) }

// Requester is the person a request is made for: the owner of the token
// that sent it, or else whoever sent it. A request for the CCB opened with
// a person's token is theirs, so that they cannot approve it themselves.
func Requester(c echo.Context) budgetgate.Actor {
	if a, ok := c.Get(ownerKey).(budgetgate.Actor); ok {
		return a
	}
	return Actor(c)
}
