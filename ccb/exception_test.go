package ccb

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/variant"
)

var (
	t0        = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	requester = budgetgate.User{Issuer: "https://idp", Subject: "req", Name: "Rita Requester", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}}
	alice     = budgetgate.User{Issuer: "https://idp", Subject: "alice", Name: "Alice", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}}
	bob       = budgetgate.User{Issuer: "https://idp", Subject: "bob", Name: "Bob", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}}
	viewer    = budgetgate.User{Issuer: "https://idp", Subject: "vic", Name: "Vic", Roles: []budgetgate.Role{budgetgate.RoleViewer}}
	admin     = budgetgate.User{Issuer: "https://idp", Subject: "ada", Name: "Ada", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleAdmin}}
)

func releaseRequest() ExceptionRequest {
	return ExceptionRequest{
		Kind:    ExceptionRelease,
		Subject: ExceptionSubject{DecisionID: 7, Service: "api-service", Version: "1.4.2"},
		Reason:  "Fixes the checkout outage; the budget was spent by the outage itself.",
	}
}

func newPending(t *testing.T, req ExceptionRequest, rules CCBRules) *Exception {
	t.Helper()
	e, err := NewException(req, requester.Actor(), rules, t0)
	if err != nil {
		t.Fatalf("NewException: %v", err)
	}
	e.ID = 12
	return e
}

func TestNewException(t *testing.T) {
	rules := DefaultCCBRules()
	tests := []struct {
		name       string
		edit       func(*ExceptionRequest)
		wantField  string // "" for success
		wantExpiry time.Duration
	}{
		{"defaults to 24h for a release", func(r *ExceptionRequest) {}, "", 24 * time.Hour},
		{"asks for 3 days", func(r *ExceptionRequest) { r.Expiry = "3d" }, "", 72 * time.Hour},
		{"asks for 90 minutes", func(r *ExceptionRequest) { r.Expiry = "90m" }, "", 90 * time.Minute},
		{"more than the release maximum", func(r *ExceptionRequest) { r.Expiry = "8d" }, "expiry", 0},
		{"nonsense expiry", func(r *ExceptionRequest) { r.Expiry = "soon" }, "expiry", 0},
		{"negative expiry", func(r *ExceptionRequest) { r.Expiry = "-1h" }, "expiry", 0},
		{"reason missing", func(r *ExceptionRequest) { r.Reason = "  " }, "reason", 0},
		{"reason of exactly 4,000 characters", func(r *ExceptionRequest) { r.Reason = strings.Repeat("é", 4000) }, "", 24 * time.Hour},
		{"reason of 4,001 characters", func(r *ExceptionRequest) { r.Reason = strings.Repeat("a", 4001) }, "reason", 0},
		{"unknown kind", func(r *ExceptionRequest) { r.Kind = "feature" }, "kind", 0},
		{"release without its decision", func(r *ExceptionRequest) { r.Subject = ExceptionSubject{} }, "decision_id", 0},
		{"variant defaults to 90 days", func(r *ExceptionRequest) {
			r.Kind = ExceptionVariant
			r.Subject = ExceptionSubject{AnalysisID: 3, Project: "fleet", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 1200}
		}, "", 90 * 24 * time.Hour},
		{"variant over 180 days", func(r *ExceptionRequest) {
			r.Kind = ExceptionVariant
			r.Subject = ExceptionSubject{AnalysisID: 3, Project: "fleet", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code"}
			r.Expiry = "181d"
		}, "expiry", 0},
		{"plan with a past target date", func(r *ExceptionRequest) {
			r.Plan = &RefactoringPlan{Steps: []string{"merge the truck overlay"}, TargetDate: "2026-01-01"}
		}, "refactoring_plan.target_date", 0},
		{"plan without steps", func(r *ExceptionRequest) {
			r.Plan = &RefactoringPlan{TargetDate: "2027-03-01"}
		}, "refactoring_plan.steps", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := releaseRequest()
			tt.edit(&req)
			e, err := NewException(req, requester.Actor(), rules, t0)
			if tt.wantField != "" {
				if budgetgate.ErrorField(err) != tt.wantField || budgetgate.ErrorCode(err) != budgetgate.EINVALID {
					t.Fatalf("err = %v (field %q), want an invalid %s", err, budgetgate.ErrorField(err), tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Status != ExceptionPending || e.RequestedExpiry != tt.wantExpiry || !e.PendingUntil.Equal(t0.Add(7*24*time.Hour)) {
				t.Errorf("got status %s, expiry %s, pending until %s", e.Status, e.RequestedExpiry, e.PendingUntil)
			}
		})
	}
}

func TestVote(t *testing.T) {
	type step struct {
		voter    budgetgate.User
		decision string
		comment  string
		at       time.Duration // after t0
		code     string        // expected error code, "" for none
		field    string
		decided  bool
	}
	twoApprovals := DefaultCCBRules()
	twoApprovals.ApprovalsRequired[ExceptionRelease] = 2
	tests := []struct {
		name       string
		rules      CCBRules
		steps      []step
		wantStatus ExceptionStatus
	}{
		{"one approval approves by default", DefaultCCBRules(), []step{
			{voter: alice, decision: "approve", decided: true},
		}, ExceptionApproved},
		{"one rejection rejects", DefaultCCBRules(), []step{
			{voter: alice, decision: "reject", comment: "Ship the fix behind a flag instead.", decided: true},
		}, ExceptionRejected},
		{"a rejection needs a comment", DefaultCCBRules(), []step{
			{voter: alice, decision: "reject", comment: " ", code: budgetgate.EINVALID, field: "comment"},
		}, ExceptionPending},
		{"the requester cannot vote", DefaultCCBRules(), []step{
			{voter: requester, decision: "approve", code: budgetgate.EFORBIDDEN},
		}, ExceptionPending},
		{"a viewer cannot vote", DefaultCCBRules(), []step{
			{voter: viewer, decision: "approve", code: budgetgate.EFORBIDDEN},
		}, ExceptionPending},
		{"an admin is not a board member", DefaultCCBRules(), []step{
			{voter: admin, decision: "approve", code: budgetgate.EFORBIDDEN},
		}, ExceptionPending},
		{"unknown decision", DefaultCCBRules(), []step{
			{voter: alice, decision: "maybe", code: budgetgate.EINVALID, field: "decision"},
		}, ExceptionPending},
		{"two approvals required: the first waits, the second approves", twoApprovals, []step{
			{voter: alice, decision: "approve"},
			{voter: bob, decision: "approve", decided: true},
		}, ExceptionApproved},
		{"one vote per person", twoApprovals, []step{
			{voter: alice, decision: "approve"},
			{voter: alice, decision: "approve", code: budgetgate.ECONFLICT},
		}, ExceptionPending},
		{"a rejection after one approval rejects", twoApprovals, []step{
			{voter: alice, decision: "approve"},
			{voter: bob, decision: "reject", comment: "Budget is exhausted twice this month.", decided: true},
		}, ExceptionRejected},
		{"a vote on a decided request is a conflict", DefaultCCBRules(), []step{
			{voter: alice, decision: "approve", decided: true},
			{voter: bob, decision: "reject", comment: "too late", code: budgetgate.ECONFLICT},
		}, ExceptionApproved},
		{"a vote after seven days is a conflict", DefaultCCBRules(), []step{
			{voter: alice, decision: "approve", at: 7 * 24 * time.Hour, code: budgetgate.ECONFLICT},
		}, ExceptionExpired},
		{"a vote just before seven days counts", DefaultCCBRules(), []step{
			{voter: alice, decision: "approve", at: 7*24*time.Hour - time.Second, decided: true},
		}, ExceptionApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPending(t, releaseRequest(), tt.rules)
			for i, s := range tt.steps {
				decided, err := e.Vote(s.voter, s.decision, s.comment, t0.Add(s.at))
				if budgetgate.ErrorCode(err) != s.code && !(err == nil && s.code == "") {
					t.Fatalf("step %d: err = %v (code %s), want code %q", i, err, budgetgate.ErrorCode(err), s.code)
				}
				if s.field != "" && budgetgate.ErrorField(err) != s.field {
					t.Errorf("step %d: field = %q, want %q", i, budgetgate.ErrorField(err), s.field)
				}
				if decided != s.decided {
					t.Errorf("step %d: decided = %v, want %v", i, decided, s.decided)
				}
			}
			if e.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", e.Status, tt.wantStatus)
			}
		})
	}
}

func TestVariantApprovalNeedsPlan(t *testing.T) {
	req := ExceptionRequest{
		Kind:    ExceptionVariant,
		Subject: ExceptionSubject{AnalysisID: 3, Project: "fleet", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 1200},
		Reason:  "Truck launch needs the overlay for one release.",
	}
	e := newPending(t, req, DefaultCCBRules())
	if _, err := e.Vote(alice, "approve", "", t0.Add(time.Hour)); budgetgate.ErrorCode(err) != budgetgate.ECONFLICT || budgetgate.ErrorField(err) != "refactoring_plan" {
		t.Fatalf("approve without a plan: err = %v, want a conflict naming refactoring_plan", err)
	}
	if err := e.SetPlan(RefactoringPlan{Steps: []string{"Fold truck overrides into the shared config"}, TargetDate: "2027-02-01"}, e.Requester, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	decided, err := e.Vote(alice, "approve", "", t0.Add(2*time.Hour))
	if err != nil || !decided || e.Status != ExceptionApproved {
		t.Fatalf("approve with a plan: decided %v, err %v, status %s", decided, err, e.Status)
	}
	if want := t0.Add(2*time.Hour + 90*24*time.Hour); !e.ExpiresAt.Equal(want) {
		t.Errorf("expires at %s, want %s", e.ExpiresAt, want)
	}
}

func TestApprovedReleaseCoversAndApplies(t *testing.T) {
	e := newPending(t, releaseRequest(), DefaultCCBRules())
	approvedAt := t0.Add(30 * time.Minute)
	if _, err := e.Vote(alice, "approve", "Watch p99 latency for an hour.", approvedAt); err != nil {
		t.Fatal(err)
	}
	rel := errorbudget.Release{Service: "api-service", Version: "1.4.2"}
	tests := []struct {
		name string
		rel  errorbudget.Release
		at   time.Time
		want bool
	}{
		{"same release, just approved", rel, approvedAt, true},
		{"same release, a second before 24h", rel, approvedAt.Add(24*time.Hour - time.Second), true},
		{"same release at 24h", rel, approvedAt.Add(24 * time.Hour), false},
		{"another version", errorbudget.Release{Service: "api-service", Version: "1.4.3"}, approvedAt, false},
		{"another service", errorbudget.Release{Service: "checkout", Version: "1.4.2"}, approvedAt, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *e
			if got := c.CoversRelease(tt.rel, tt.at); got != tt.want {
				t.Errorf("CoversRelease = %v, want %v", got, tt.want)
			}
		})
	}
	dec := errorbudget.Decision{Approved: false, Reason: "Insufficient error budget: 12.3% < 25%", Alternative: "Wait", Conditions: []string{}}
	e.ApplyTo(&dec)
	wantConds := []string{
		"CCB exception 12 expires 2026-11-23 10:30 UTC",
		errorbudget.CondMonitor,
		errorbudget.CondRollbackReady,
		"CCB (Alice): Watch p99 latency for an hour.",
	}
	if !dec.Approved || dec.Reason != "CCB exception 12 approved by Alice" || dec.Alternative != "" || !reflect.DeepEqual(dec.Conditions, wantConds) {
		t.Errorf("applied decision = %+v", dec)
	}
	if ref := dec.Exception; ref == nil || ref.ID != 12 || !reflect.DeepEqual(ref.ApprovedBy, []string{"Alice"}) {
		t.Errorf("decision cites %#v", dec.Exception)
	}
}

func TestApproverNamesWithTwoApprovals(t *testing.T) {
	rules := DefaultCCBRules()
	rules.ApprovalsRequired[ExceptionRelease] = 2
	e := newPending(t, releaseRequest(), rules)
	e.Vote(alice, "approve", "", t0.Add(time.Minute))
	e.Vote(bob, "approve", "", t0.Add(2*time.Minute))
	dec := errorbudget.Decision{}
	e.ApplyTo(&dec)
	if dec.Reason != "CCB exception 12 approved by Alice, Bob" {
		t.Errorf("reason = %q", dec.Reason)
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name string
		by   budgetgate.User
		at   time.Duration
		code string
	}{
		{"the requester cancels", requester, time.Hour, ""},
		{"an admin cancels", admin, time.Hour, ""},
		{"another member may not", alice, time.Hour, budgetgate.EFORBIDDEN},
		{"too late once expired", requester, 8 * 24 * time.Hour, budgetgate.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPending(t, releaseRequest(), DefaultCCBRules())
			err := e.Cancel(tt.by, t0.Add(tt.at))
			if budgetgate.ErrorCode(err) != tt.code && !(err == nil && tt.code == "") {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if err == nil && e.Status != ExceptionCancelled {
				t.Errorf("status = %s", e.Status)
			}
		})
	}
}

func TestReminderDue(t *testing.T) {
	approveFor := func(expiry string) *Exception {
		req := releaseRequest()
		req.Expiry = expiry
		e := newPending(t, req, DefaultCCBRules())
		if _, err := e.Vote(alice, "approve", "", t0); err != nil {
			t.Fatal(err)
		}
		return e
	}
	tests := []struct {
		name     string
		expiry   string
		at       time.Duration // after approval
		lastSent time.Duration
		want     time.Duration // 0: none due
	}{
		{"3-day approval, first day: nothing", "3d", 24 * time.Hour, 0, 0},
		{"3-day approval, 24h left", "3d", 48 * time.Hour, 0, 24 * time.Hour},
		{"3-day approval, 24h reminder sent", "3d", 60 * time.Hour, 24 * time.Hour, 0},
		{"3-day approval, 1h left", "3d", 71 * time.Hour, 24 * time.Hour, time.Hour},
		{"3-day approval, 1h left, none sent: only the urgent one", "3d", 71 * time.Hour, 0, time.Hour},
		{"3-day approval, 1h reminder sent", "3d", 71*time.Hour + 30*time.Minute, time.Hour, 0},
		{"24h approval gets no 24h reminder", "24h", 0, 0, 0},
		{"24h approval, 1h left", "24h", 23 * time.Hour, 0, time.Hour},
		{"expired: nothing", "24h", 24 * time.Hour, 0, 0},
		{"30-minute approval: nothing", "30m", 10 * time.Minute, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := approveFor(tt.expiry)
			got, ok := e.ReminderDue(t0.Add(tt.at), tt.lastSent)
			if got != tt.want || ok != (tt.want != 0) {
				t.Errorf("ReminderDue = %s, %v; want %s", got, ok, tt.want)
			}
		})
	}
}

func TestExpiryFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"24h", 24 * time.Hour, "24h"},
		{"2d", 48 * time.Hour, "2d"},
		{"90d", 90 * 24 * time.Hour, "90d"},
		{"36h", 36 * time.Hour, "36h"},
		{"90m", 90 * time.Minute, "1h30m0s"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseExpiry(tt.in)
			if err != nil || d != tt.want || FormatExpiry(d) != tt.out {
				t.Errorf("ParseExpiry(%q) = %s, %v; formatted %q, want %s and %q", tt.in, d, err, FormatExpiry(d), tt.want, tt.out)
			}
		})
	}
}

func TestRolesFromGroups(t *testing.T) {
	rg := budgetgate.RoleGroups{CCB: "change-board", SRE: "sre", Admin: "platform-admins"}
	tests := []struct {
		groups []string
		want   []budgetgate.Role
	}{
		{nil, []budgetgate.Role{budgetgate.RoleViewer}},
		{[]string{"change-board"}, []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}},
		{[]string{"ccb", "sre", "platform-admins"}, []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleSRE, budgetgate.RoleAdmin}},
		{[]string{"SRE"}, []budgetgate.Role{budgetgate.RoleViewer}}, // group names are compared exactly
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.groups, ","), func(t *testing.T) {
			if got := budgetgate.RolesFromGroups(tt.groups, rg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RolesFromGroups(%v) = %v, want %v", tt.groups, got, tt.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"ingest,gate,read", []string{"ingest", "gate", "read"}, false},
		{"read, gate ,read", []string{"gate", "read"}, false},
		{"", nil, true},
		{"admin", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := budgetgate.ParseScopes(tt.in)
			if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseScopes(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

// TestVariantCover: an approved variant exception lets through, at a
// later commit, up to the value measured when it was requested, until it
// expires.
func TestVariantCover(t *testing.T) {
	subject := ExceptionSubject{AnalysisID: 3, Project: "fleet", Commit: "abc", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 1200}
	e := newPending(t, ExceptionRequest{Kind: ExceptionVariant, Subject: subject, Reason: "Truck launch.",
		Plan: &RefactoringPlan{Steps: []string{"merge overlays"}, TargetDate: "2027-06-01"}}, DefaultCCBRules())
	if _, err := e.Vote(alice, "approve", "", t0); err != nil {
		t.Fatal(err)
	}
	later := subject
	later.Commit, later.AnalysisID = "def", 4
	other := subject
	other.Variant = "bus"
	tests := []struct {
		name    string
		subject ExceptionSubject
		value   float64
		at      time.Duration
		want    bool
	}{
		{"the measured value, a later commit", later, 1200, time.Hour, true},
		{"less than measured", later, 900, time.Hour, true},
		{"growth blocks again", later, 1201, time.Hour, false},
		{"another variant", other, 100, time.Hour, false},
		{"after 90 days", later, 1200, 90 * 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *e
			cover := NewVariantCover([]*Exception{&c}, tt.subject.Project, t0.Add(tt.at))
			if got := cover.Covers(tt.subject.Dimension, tt.subject.Variant, tt.subject.Metric, tt.value); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlanProgress(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	latest := func(delta float64) *variant.Analysis {
		return &variant.Analysis{Dimensions: []variant.DimensionResult{{Name: "vehicle",
			Metrics:  []variant.MetricResult{{Name: "lines_of_code", SoftLimit: 3, HardLimit: 5}},
			Variants: []variant.VariantResult{{Name: "truck", Metrics: map[string]variant.VariantMetric{"lines_of_code": {Delta: delta}}}}}}}
	}
	e := &Exception{ID: 7, Kind: ExceptionVariant, Status: ExceptionApproved,
		Subject: ExceptionSubject{Project: "fleet", Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 5.94,
			Covers: []VariantLimit{{Dimension: "vehicle", Variant: "truck", Metric: "lines_of_code", Value: 5.94}}},
		Plan: &RefactoringPlan{Steps: []string{"move brakes to core"}, TargetDate: "2026-11-20"}}
	tests := []struct {
		name          string
		latest        *variant.Analysis
		done, overdue bool
	}{
		{"still over the soft limit after the target date", latest(4.5), false, true},
		{"back within the soft limit", latest(2.99), true, false},
		{"exactly at the soft limit counts as within", latest(3.001), true, false},
		{"no baseline analysis yet", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := e.Progress(tt.latest, now)
			if len(ps) != 1 {
				t.Fatalf("%d progress rows, want 1", len(ps))
			}
			p := ps[0]
			if p.Done != tt.done || p.Overdue != tt.overdue || p.DeltaApproved != 5.94 {
				t.Fatalf("%+v: want done=%v overdue=%v approved 5.94", p, tt.done, tt.overdue)
			}
		})
	}
	e.Plan.TargetDate = "2026-11-22" // today: not overdue until the day is over
	if p := e.Progress(latest(4.5), now)[0]; p.Overdue {
		t.Fatal("overdue on its target day")
	}
}

// TestRequestedByMayNotVote: the person a denied release's requested_by
// names (by subject, username or email; case aside for the last two) may
// not vote on its request; anyone else on the board may.
func TestRequestedByMayNotVote(t *testing.T) {
	bruno := budgetgate.User{Issuer: "https://idp", Subject: "u-1842", Username: "bruno", Email: "Bruno@Example.test", Name: "Bruno", Roles: []budgetgate.Role{budgetgate.RoleViewer, budgetgate.RoleCCB}}
	tests := []struct {
		by      string
		refused bool
	}{
		{"u-1842", true},
		{"bruno", true},
		{"BRUNO", true},
		{"bruno@example.test", true},
		{" bruno ", true},
		{"U-1842", false}, // subjects are compared exactly
		{"bruno2", false},
		{"Bruno", true},
		{"", false},
		{"release-train", false},
	}
	for _, tt := range tests {
		t.Run(tt.by, func(t *testing.T) {
			e := newPending(t, releaseRequest(), DefaultCCBRules())
			e.Evidence.Decision = &errorbudget.Decision{Release: errorbudget.Release{Service: "api-service", Version: "1.4.2", RequestedBy: tt.by}}
			err := e.CanVote(bruno, t0)
			if refused := budgetgate.ErrorCode(err) == budgetgate.EFORBIDDEN; refused != tt.refused {
				t.Errorf("requested_by %q: CanVote = %v, want refused %v", tt.by, err, tt.refused)
			}
			if err := e.CanVote(alice, t0); err != nil {
				t.Errorf("another member: %v", err)
			}
		})
	}
}
