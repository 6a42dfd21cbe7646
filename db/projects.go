package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/variant"
)

// DefaultOwnerRole is told of a project's new violations unless the
// project names its own owner.
const DefaultOwnerRole = "platform"

// ensureProject returns the project's id, creating it on first use.
func (tx *Tx) ensureProject(ctx context.Context, name string) (int64, error) {
	if err := tx.exec(ctx, `INSERT INTO projects (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, formatTime(tx.now)); err != nil {
		return 0, fmt.Errorf("db: adding project %s: %w", name, err)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE name = ?`, name).Scan(&id)
	return id, mapErr(err)
}

// ConfigureRepositories records the repositories the server was started
// with (project name -> path), replacing the previous configuration, and
// the owner roles given for projects.
func (d *DB) ConfigureRepositories(ctx context.Context, repos map[string]string, owners map[string]string) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("db: configuring repositories: %w", err)
	}
	defer tx.Rollback()
	if err := tx.exec(ctx, `DELETE FROM repositories`); err != nil {
		return fmt.Errorf("db: configuring repositories: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(repos)) {
		if err := tx.addRepository(ctx, name, repos[name]); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(owners)) {
		if _, err := tx.ensureProject(ctx, name); err != nil {
			return fmt.Errorf("db: configuring the owner of %s: %w", name, err)
		}
		if err := tx.exec(ctx, `UPDATE projects SET owner_role = ? WHERE name = ?`, owners[name], name); err != nil {
			return fmt.Errorf("db: configuring the owner of %s: %w", name, err)
		}
	}
	return mapErr(tx.Commit())
}

// AddRepository configures one more repository.
func (d *DB) AddRepository(ctx context.Context, project, path string) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("db: adding the repository of %s: %w", project, err)
	}
	defer tx.Rollback()
	if err := tx.addRepository(ctx, project, path); err != nil {
		return err
	}
	return mapErr(tx.Commit())
}

func (tx *Tx) addRepository(ctx context.Context, project, path string) error {
	if !variant.ValidProjectName(project) {
		return budgetgate.FieldErrorf("repo", "%q is not a project name", project)
	}
	id, err := tx.ensureProject(ctx, project)
	if err != nil {
		return err
	}
	return tx.exec(ctx, `INSERT INTO repositories (project_id, path, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET path = excluded.path, updated_at = excluded.updated_at`,
		id, path, formatTime(tx.now))
}

const projectColumns = `p.id, p.name, p.owner_role, COALESCE(r.path, ''), p.created_at`

func scanProject(row interface{ Scan(...any) error }) (*app.Project, error) {
	var p app.Project
	var at string
	if err := row.Scan(&p.ID, &p.Name, &p.OwnerRole, &p.RepoPath, &at); err != nil {
		return nil, fmt.Errorf("db: reading a project: %w", err)
	}
	if p.OwnerRole == "" {
		p.OwnerRole = DefaultOwnerRole
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, fmt.Errorf("db: project %s: %w", p.Name, err)
	}
	p.CreatedAt = t
	return &p, nil
}

// Projects lists every project by name.
func (d *DB) Projects(ctx context.Context) ([]*app.Project, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects p LEFT JOIN repositories r ON r.project_id = p.id ORDER BY p.name`)
	if err != nil {
		return nil, fmt.Errorf("db: listing projects: %w", err)
	}
	out, err := scanAll(rows, scanProject)
	if err != nil {
		return nil, fmt.Errorf("db: listing projects: %w", err)
	}
	return out, nil
}

// Project returns one project, or ENOTFOUND.
func (d *DB) Project(ctx context.Context, name string) (*app.Project, error) {
	p, err := scanProject(d.read.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects p LEFT JOIN repositories r ON r.project_id = p.id WHERE p.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, budgetgate.Errorf(budgetgate.ENOTFOUND, "unknown project %q", name)
	}
	return p, err
}
