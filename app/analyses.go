package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

// AnalysisStore is what recording analyses and the deployment gate need
// from the store.
type AnalysisStore interface {
	Writer
	Projects(ctx context.Context) ([]*Project, error)
	Project(ctx context.Context, name string) (*Project, error)
	LatestBaselineAnalysis(ctx context.Context, project string) (*variant.ProjectAnalysis, error)
	UnresolvedBaselineViolations(ctx context.Context, project string) ([]variant.TrackedViolation, error)
}

// ExceptionCover says which violations approved CCB exceptions cover.
// CCBVariants implements it; NoExceptions covers nothing.
type ExceptionCover interface {
	// Covered reports, for each of the project's violations, whether an
	// approved, unexpired exception covers its (dimension, variant,
	// metric) up to at least its measured value.
	Covered(ctx context.Context, project string, vs []variant.Violation) ([]bool, error)
}

// NoExceptions is the ExceptionCover of a server without CCB exceptions.
type NoExceptions struct{}

// Covered covers nothing.
func (NoExceptions) Covered(_ context.Context, _ string, vs []variant.Violation) ([]bool, error) {
	return make([]bool, len(vs)), nil
}

// CCBRequester opens the CCB request of a blocked analysis. It runs inside
// the transaction that stores the analysis, so that the two commit
// together and a retried request replays both: it must write through tx.
// It is called at most once per (project, commit).
type CCBRequester interface {
	OpenForAnalysis(ctx context.Context, tx Tx, project, commit string, analysisID int64, a *variant.Analysis, actor budgetgate.Actor) (id int64, url string, err error)
}

// Analyses records variant-budget analyses and answers the deployment gate.
type Analyses struct {
	Store     AnalysisStore
	Cover     ExceptionCover // nil: NoExceptions
	CCB       CCBRequester   // nil: no requests are opened
	Hooks     Webhooks
	PublicURL string       // links in notifications
	Log       *slog.Logger // nil: slog.Default()
	Repositories
}

func (s *Analyses) cover() ExceptionCover {
	if s.Cover == nil {
		return NoExceptions{}
	}
	return s.Cover
}

// ProjectURL is the project's page.
func ProjectURL(base, project string) string {
	return strings.TrimRight(base, "/") + "/projects/" + url.PathEscape(project)
}

// Recording is an evaluated analysis to record.
type Recording struct {
	Analysis   *variant.Analysis
	OnBaseline bool   // the commit is on the baseline branch
	Source     string // SourceCI or SourceServer
	Actor      budgetgate.Actor
	// Requester is who a CCB request the analysis opens is asked by: the
	// token's owner where it has one.
	Requester budgetgate.Actor
}

// Recorded is what recording an analysis did.
type Recorded struct {
	Saved      *SavedAnalysis
	CCBRequest *CCBLink // the request a blocked commit opened, if any
	// CCBRequestError says why a blocked analysis has no CCB request: it
	// is stored as blocked all the same, and the gate stays closed.
	CCBRequestError error
	Link            string // the project's page
}

// Record stores an analysis: a change is first held to the limits of its
// project's baseline, and the violations approved exceptions cover are
// marked. A blocked commit opens a CCB request in the same transaction.
// Under an Idempotency-Key a retry gets the first reply, which reply makes
// from what was recorded.
func (s *Analyses) Record(ctx context.Context, in Recording, idem *Idempotency, reply func(*Recorded) (Reply, error)) (Reply, bool, error) {
	a := in.Analysis
	if !in.OnBaseline {
		if err := s.holdToBaseline(ctx, a); err != nil {
			return Reply{}, false, err
		}
	}
	covered := make([]bool, len(a.Violations))
	if len(a.Violations) > 0 {
		var err error
		if covered, err = s.cover().Covered(ctx, a.Project, a.Violations); err != nil {
			return Reply{}, false, err
		}
	}
	link := ProjectURL(s.PublicURL, a.Project)
	return s.Store.Idempotent(ctx, idem, func(tx Tx) (Reply, error) {
		saved, err := tx.SaveAnalysis(ctx, NewAnalysis{Analysis: a, OnBaseline: in.OnBaseline, Source: in.Source, Covered: covered,
			Actor: in.Actor, Hooks: s.Hooks, Link: link})
		if err != nil {
			return Reply{}, err
		}
		rec := &Recorded{Saved: saved, Link: link}
		if saved.Status == variant.AnalysisBlocked && s.CCB != nil {
			if rec.CCBRequest, rec.CCBRequestError, err = s.openRequest(ctx, tx, a, saved.ID, in.Requester); err != nil {
				return Reply{}, err
			}
		}
		return reply(rec)
	})
}

// holdToBaseline holds a change to the limits its baseline has on the
// server, so that a change cannot loosen its own budget.
func (s *Analyses) holdToBaseline(ctx context.Context, a *variant.Analysis) error {
	ref, err := s.Store.LatestBaselineAnalysis(ctx, a.Project)
	switch {
	case err == nil:
		a.HoldTo(ref.Analysis)
	case budgetgate.ErrorCode(err) != budgetgate.ENOTFOUND:
		return fmt.Errorf("read the baseline analysis of %s: %w", a.Project, err)
	}
	return nil
}

// openRequest opens the CCB request of a blocked analysis, or finds the
// one its commit already has, in a savepoint of tx: when it cannot be
// opened, openErr says why and the analysis stays stored as blocked; err
// means the transaction itself is lost.
func (s *Analyses) openRequest(ctx context.Context, tx Tx, a *variant.Analysis, analysisID int64, actor budgetgate.Actor) (link *CCBLink, openErr, err error) {
	openErr, err = tx.Savepoint(ctx, func(tx Tx) error {
		req, err := tx.CCBRequestFor(ctx, a.Project, a.Commit)
		if err != nil || req != nil {
			link = req
			return err
		}
		id, url, err := s.CCB.OpenForAnalysis(ctx, tx, a.Project, a.Commit, analysisID, a, actor)
		if err != nil {
			return err
		}
		link = &CCBLink{ID: id, URL: url}
		return tx.LinkCCBRequest(ctx, analysisID, *link)
	})
	if openErr != nil {
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "blocked analysis stored without its CCB request", "project", a.Project, "commit", a.Commit,
			"analysis_id", analysisID, "err", openErr)
		link = nil
	}
	return link, openErr, err
}
