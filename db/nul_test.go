package db

import (
	"context"
	"testing"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/app"
	"github.com/budgetgate/budgetgate/ccb"
)

// Text with a NUL character: SQLite keeps it, PostgreSQL's text cannot hold
// it and the write is refused as invalid input, with nothing stored.
func TestTextWithNUL(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		d, _ := openTest(t, b)
		ctx := context.Background()
		dec := deniedRelease(t, d, "ledger", "1.0.0")
		_, _, err := board(d, ccb.DefaultCCBRules(), app.CCBNotify{}).Open(ctx, ccb.ExceptionRequest{Kind: ccb.ExceptionRelease,
			Subject: ccb.ExceptionSubject{DecisionID: dec.ID}, Reason: "hot\x00fix"}, rita.Actor())
		var n int
		d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM exceptions`).Scan(&n)
		switch b.name {
		case sqliteBackend.name:
			if err != nil || n != 1 {
				t.Errorf("SQLite: %v, %d requests", err, n)
			}
		default:
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID || n != 0 {
				t.Errorf("PostgreSQL: %v, %d requests; want invalid and none stored", err, n)
			}
		}
	})
}
