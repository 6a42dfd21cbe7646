package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 128

var errClosed = errors.New("db: closed")

// writeReq is one caller's write waiting for the group committer.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
	// conflicts counts the lock conflicts this write lost to another
	// instance's transaction.
	conflicts int
}

// writeTx runs fn in a write transaction shared with whatever other writes
// are waiting (group commit): each runs inside its own savepoint, so one
// failing rolls back only its own work, and all of them commit with one WAL
// write. Under concurrency this turns many small commits into a few; alone,
// a write commits at once. fn must write through tx only.
func (d *DB) writeTx(ctx context.Context, fn func(tx *Tx) error) error {
	req := writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case d.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.quit:
		return errClosed
	}
	return <-req.done
}

// Write is writeTx for the use cases, which see the transaction as app.Tx.
func (d *DB) Write(ctx context.Context, fn func(tx app.Tx) error) error {
	return d.writeTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// groupCommitter takes queued writes and commits them in groups until quit.
func (d *DB) groupCommitter() {
	for {
		var group []writeReq
		select {
		case r := <-d.writes:
			group = append(group, r)
		case <-d.quit:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-d.writes:
				group = append(group, r)
			default:
				break drain
			}
		}
		d.commitGroup(group)
	}
}

func (d *DB) commitGroup(group []writeReq) {
	errs := make([]error, len(group))
	fail := func(err error) {
		d.noteWrites(isStorageFull(err), false)
		for _, r := range group {
			r.done <- err
		}
	}
	tx, err := d.BeginTx(context.Background())
	if err != nil {
		fail(err)
		return
	}
	defer tx.Rollback()
	var after []func()
	var topics []string
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		sub, err, lost := d.writeOne(tx, r)
		if lost != nil {
			fail(lost)
			return
		}
		if errs[i] = err; err != nil {
			continue
		}
		after = append(after, sub.after...)
		topics = append(topics, sub.topics...)
	}
	if err := d.announce(context.Background(), tx.txConn, topics); err != nil {
		fail(err)
		return
	}
	if err := tx.Tx.Commit(); err != nil {
		fail(mapErr(err))
		return
	}
	full, wrote := false, false
	for _, err := range errs {
		full = full || isStorageFull(err)
		wrote = wrote || err == nil
	}
	d.noteWrites(full, wrote)
	d.drop(topics)
	for _, f := range after {
		f()
	}
	var again []writeReq
	for i, r := range group {
		if errors.Is(errs[i], errBusy) && r.conflicts < conflictRetries && r.ctx.Err() == nil {
			r.conflicts++
			again = append(again, r)
			continue
		}
		r.done <- errs[i]
	}
	if len(again) > 0 {
		d.commitGroup(again)
	}
}

// conflictRetries bounds how often a write that lost a lock conflict to
// another instance (a deadlock between two instances' groups) is run again,
// in a group of its own once its first group has committed and let go of
// its locks, before the client is told to retry.
const conflictRetries = 3

// writeOne runs one write of a group in its own savepoint. A write that
// fails is rolled back to the savepoint and its error returned, the group
// going on. lost means the transaction itself is gone and the group with it.
func (d *DB) writeOne(tx *Tx, r writeReq) (sub *Tx, err, lost error) {
	if _, err := tx.ExecContext(r.ctx, "SAVEPOINT write"); err != nil {
		return nil, mapErr(err), nil
	}
	sub = &Tx{txConn: tx.txConn, db: d, now: tx.now}
	if err = r.fn(sub); err == nil {
		if _, err := tx.ExecContext(context.Background(), "RELEASE write"); err != nil {
			return nil, nil, mapErr(err)
		}
		return sub, nil, nil
	}
	if rbErr := tx.rollbackTo(rollbackWrite); rbErr != nil {
		// SQLite may have rolled the whole transaction back itself
		// (it may on a full disk or an I/O error), taking the
		// savepoint with it: the group is lost, for the reason
		// this write failed.
		if budgetgate.ErrorCode(err) == budgetgate.EUNAVAILABLE {
			return nil, nil, err
		}
		return nil, nil, mapErr(rbErr)
	}
	return nil, err, nil
}

// Savepoint runs fn inside a savepoint of tx: if fn fails, what it wrote is
// rolled back and its error returned, and tx goes on with what was written
// before, so that a step that may fail (opening a CCB request) cannot take
// the rest of the write (the analysis it is about) down with it. An error
// rolling back means the transaction itself is lost; it is returned
// wrapped, and the caller must give up the write.
func (tx *Tx) Savepoint(ctx context.Context, fn func(tx app.Tx) error) (stepErr, txErr error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT step"); err != nil {
		return nil, mapErr(err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.rollbackTo(rollbackStep); rbErr != nil {
			return err, fmt.Errorf("rolling back a failed step (%v): %w", err, mapErr(rbErr))
		}
		return err, nil
	}
	if _, err := tx.ExecContext(ctx, "RELEASE step"); err != nil {
		return nil, mapErr(err)
	}
	return nil, nil
}

// The statements that undo a savepoint and drop it, one at a time: the
// PostgreSQL driver runs one statement a call.
var (
	rollbackWrite = []string{"ROLLBACK TO write", "RELEASE write"}
	rollbackStep  = []string{"ROLLBACK TO step", "RELEASE step"}
)

// rollbackTo runs stmts, which undo a savepoint, whatever the caller's
// context says: the transaction must be left usable.
func (tx *Tx) rollbackTo(stmts []string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(context.Background(), s); err != nil {
			return err
		}
	}
	return nil
}
