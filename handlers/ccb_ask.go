package handlers

import (
	"context"

	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
	"github.com/budgetgate/budgetgate/views"
)

// GateFunc answers the variant deployment gate of a project.
type GateFunc func(ctx context.Context, project string) (*app.GateAnswer, error)

// askBoard says how the project's page may take it to the board: nil
// when nothing blocks it (or the server runs no gate). A blocked project
// is asked about by its latest baseline analysis, whose violations a
// request then covers; the requests already waiting are listed beside.
func (p *VariantPages) askBoard(ctx context.Context, project string) (*views.AskBoard, error) {
	if p.Gate == nil {
		return nil, nil
	}
	ans, err := p.Gate(ctx, project)
	if err != nil || ans.Allowed || ans.Analysis == nil {
		return nil, err
	}
	a := &views.AskBoard{Project: project, AnalysisID: ans.Analysis.ID, Commit: ans.Analysis.Commit, Blocking: ans.Blocking}
	if p.Exceptions != nil {
		excs, err := p.Exceptions(ctx, project)
		if err != nil {
			return nil, err
		}
		for _, e := range excs {
			if e.Status == ccb.ExceptionPending {
				a.Pending = append(a.Pending, e)
			}
		}
	}
	return a, nil
}

// askBoards is askBoard for every project that is blocked.
func (p *VariantPages) askBoards(ctx context.Context, projects []string) ([]*views.AskBoard, error) {
	var out []*views.AskBoard
	for _, name := range projects {
		a, err := p.askBoard(ctx, name)
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}
