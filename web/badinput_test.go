package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/errorbudget"
	"github.com/budgetgate/budgetgate/handlers"
	"github.com/budgetgate/budgetgate/policyfile"
	"github.com/budgetgate/budgetgate/variant"
)

// badCase is one bad request and the refusal it must get. API answers are
// checked by status, code and field; pages by status and a text the page
// must show (the field, as the form names it).
type badCase struct {
	name   string
	as     string // "" for the every-scope token, else an agent: ccb, admin, viewer
	method string
	path   string
	body   string     // JSON or YAML for the API
	form   url.Values // for pages; the agent's CSRF token is added
	ctype  string     // overrides the content type
	// chunked sends the body without a length, so that only reading it
	// finds it too large.
	chunked bool
	status  int
	code    string // API error code
	field   string // API error field; on a page, a text it must show
}

// TestBadInputBattery posts malformed, mistyped, out-of-range, unknown,
// oversize and over-long input to every decoder and form, and checks that
// each is refused with the right status and an error naming the field, and
// that the database is exactly as it was afterwards: nothing is stored
// half, nor whole.
func TestBadInputBattery(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	agents := map[string]*agent{
		"ccb":    h.agent(t, member("m-ccb", budgetgate.RoleCCB)),
		"admin":  h.agent(t, member("m-admin", budgetgate.RoleAdmin)),
		"viewer": h.agent(t, member("m-viewer")),
	}

	// Fixtures: a denied release with a pending request, and a blocked
	// analysis with the request it opened.
	status, raw, _ := h.api(t, h.Token, "POST", "/api/v1/releases/evaluate", `{"service":"ledger","version":"1.0.0"}`)
	var dec errorbudget.Decision
	if json.Unmarshal([]byte(raw), &dec); status != 200 || dec.Approved {
		t.Fatalf("fixture decision: %d %s", status, raw)
	}
	status, raw, _ = h.api(t, h.Token, "POST", "/api/v1/exceptions", fmt.Sprintf(`{"decision_id":%d,"reason":"Month-end close."}`, dec.ID))
	var exc struct{ ID int64 }
	if json.Unmarshal([]byte(raw), &exc); status != 201 {
		t.Fatalf("fixture request: %d %s", status, raw)
	}
	analysis := fleetDoc(t, "c1", "", 600)
	status, raw, _ = h.api(t, h.Token, "POST", "/api/v1/budget/analyze", analysis)
	var blocked struct {
		AnalysisID int64 `json:"analysis_id"`
		Status     string
	}
	if json.Unmarshal([]byte(raw), &blocked); status != 201 || blocked.Status != "blocked" {
		t.Fatalf("fixture analysis: %d %s", status, raw)
	}

	hourAgo := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	event := func(good, total string) string {
		return `{"time":"` + hourAgo + `","good":` + good + `,"total":` + total + `}`
	}
	sli := "/api/v1/services/ledger/sli"
	eval := "/api/v1/releases/evaluate"
	excs := "/api/v1/exceptions"
	plan := fmt.Sprintf("/api/v1/exceptions/%d/plan", exc.ID)
	cancel := fmt.Sprintf("/api/v1/exceptions/%d/cancel", exc.ID)
	policy := "/api/v1/services/ledger/policy"
	analyze := "/api/v1/budget/analyze"
	vote := fmt.Sprintf("/ccb/%d/votes", exc.ID)
	oversize := strings.Repeat(" ", handlers.MaxBodyBytes+1)
	long := func(n int) string { return strings.Repeat("x", n) }
	steps := func(n int) string { return `["` + strings.Repeat(`split",  "`, n-1) + `split"]` }
	dims := func(n int) string {
		var d []string
		for i := range n {
			d = append(d, fmt.Sprintf(`{"name":"d%d","status":"pass","metrics":[],"variants":[]}`, i))
		}
		return strings.Replace(analysis, `"dimensions":[`, `"dimensions":[`+strings.Join(d, ",")+",", 1)
	}
	synthetic := func(dims, variants, metrics int, change func(*variant.Analysis)) string {
		a := syntheticAnalysis("c2", dims, variants, metrics, 0)
		if change != nil {
			change(a)
		}
		return docJSON(t, a)
	}
	manyEvents := "[" + strings.Repeat(event("1", "1")+",", errorbudget.MaxSLIEventsPerRequest) + event("1", "1") + "]"
	// Each entry within its own limit, together past 2^53 from the 9008th on.
	maxCount := strconv.FormatInt(errorbudget.MaxSLICount, 10)
	pastExact := "[" + strings.Repeat(event("0", maxCount)+",", errorbudget.MaxSLIEventsPerRequest-1) + event("0", maxCount) + "]"

	cases := []badCase{
		// SLI ingest (see docs/API.md, Error budgets).
		{name: "sli malformed", method: "POST", path: sli, body: `{"events":[` + event("1", "1"), status: 400, code: "bad_request"},
		{name: "sli not an object", method: "POST", path: sli, body: `[1]`, status: 400, code: "bad_request"},
		{name: "sli events of the wrong type", method: "POST", path: sli, body: `{"events":{}}`, status: 422, code: "invalid", field: "events"},
		{name: "sli count of the wrong type", method: "POST", path: sli, body: `{"events":[` + event("1", "1") + `,` + event(`true`, "1") + `]}`, status: 422, code: "invalid", field: "events[1].good"},
		{name: "sli unknown field", method: "POST", path: sli, body: `{"events":[{"time":"` + hourAgo + `","good":1,"total":1,"bad":0}]}`, status: 422, code: "invalid", field: "events[0].bad"},
		{name: "sli negative", method: "POST", path: sli, body: `{"events":[` + event("-1", "1") + `]}`, status: 422, code: "invalid", field: "events[0].good"},
		{name: "sli good over total", method: "POST", path: sli, body: `{"events":[` + event("3", "2") + `]}`, status: 422, code: "invalid", field: "events[0].good"},
		{name: "sli count out of range", method: "POST", path: sli, body: `{"events":[` + event("1", "100000000000000000") + `]}`, status: 422, code: "invalid", field: "events[0].total"},
		{name: "sli count overflows int64", method: "POST", path: sli, body: `{"events":[` + event("1", "1e30") + `]}`, status: 422, code: "invalid", field: "events[0].total"},
		{name: "sli batch past 2^53", method: "POST", path: sli, body: `{"events":` + pastExact + `}`, status: 422, code: "invalid", field: "events[9007].total"},
		{name: "sli time not RFC 3339", method: "POST", path: sli, body: `{"events":[{"time":"yesterday","good":1,"total":1}]}`, status: 422, code: "invalid", field: "events[0].time"},
		{name: "sli too many events", method: "POST", path: sli, body: `{"events":` + manyEvents + `}`, status: 413, code: "too_large", field: "events"},
		{name: "sli oversize body", method: "POST", path: sli, body: `{"events":[` + oversize + `]}`, status: 413, code: "too_large"},
		{name: "sli oversize chunked body", method: "POST", path: sli, body: `{"events":[` + oversize + `]}`, chunked: true, status: 413, code: "too_large"},
		{name: "sli long idempotency key", method: "POST", path: sli, body: `{"events":[` + event("1", "1") + `]}`, status: 422, code: "invalid", field: "Idempotency-Key"},

		// Release evaluation (see docs/BUDGET_MATH.md, Release gate).
		{name: "evaluate malformed", method: "POST", path: eval, body: `{"service":`, status: 400, code: "bad_request"},
		{name: "evaluate not an object", method: "POST", path: eval, body: `"ledger"`, status: 400, code: "bad_request"},
		{name: "evaluate trailing data", method: "POST", path: eval, body: `{"service":"ledger","version":"1"} {}`, status: 400, code: "bad_request"},
		{name: "evaluate version of the wrong type", method: "POST", path: eval, body: `{"service":"ledger","version":1}`, status: 422, code: "invalid", field: "version"},
		{name: "evaluate flag of the wrong type", method: "POST", path: eval, body: `{"service":"ledger","version":"1","has_tests":"yes"}`, status: 422, code: "invalid", field: "has_tests"},
		{name: "evaluate unknown field", method: "POST", path: eval, body: `{"service":"ledger","version":"1","force":true}`, status: 422, code: "invalid", field: "force"},
		{name: "evaluate risk out of range", method: "POST", path: eval, body: `{"service":"ledger","version":"1","risk_level":"extreme"}`, status: 422, code: "invalid", field: "risk_level"},
		{name: "evaluate service name", method: "POST", path: eval, body: `{"service":"Ledger Service","version":"1"}`, status: 422, code: "invalid", field: "service"},
		{name: "evaluate version too long", method: "POST", path: eval, body: `{"service":"ledger","version":"` + long(201) + `"}`, status: 422, code: "invalid", field: "version"},
		{name: "evaluate requester too long", method: "POST", path: eval, body: `{"service":"ledger","version":"1","requested_by":"` + long(201) + `"}`, status: 422, code: "invalid", field: "requested_by"},
		{name: "evaluate no version", method: "POST", path: eval, body: `{"service":"ledger"}`, status: 422, code: "invalid", field: "version"},
		{name: "evaluate oversize body", method: "POST", path: eval, body: `{"service":"` + oversize + `"}`, status: 413, code: "too_large"},
		{name: "evaluate oversize chunked body", method: "POST", path: eval, body: `{"service":"` + oversize + `"}`, chunked: true, status: 413, code: "too_large"},

		// Exception requests (see docs/API.md, Exceptions).
		{name: "exception malformed", method: "POST", path: excs, body: `{"decision_id":1,`, status: 400, code: "bad_request"},
		{name: "exception id of the wrong type", method: "POST", path: excs, body: `{"decision_id":"1","reason":"x"}`, status: 422, code: "invalid", field: "decision_id"},
		{name: "exception fractional id", method: "POST", path: excs, body: `{"decision_id":1.5,"reason":"x"}`, status: 422, code: "invalid", field: "decision_id"},
		{name: "exception id overflows", method: "POST", path: excs, body: `{"decision_id":1e30,"reason":"x"}`, status: 422, code: "invalid", field: "decision_id"},
		{name: "exception negative id", method: "POST", path: excs, body: `{"decision_id":-4,"reason":"x"}`, status: 422, code: "invalid", field: "decision_id"},
		{name: "exception unknown decision", method: "POST", path: excs, body: `{"decision_id":99999,"reason":"x"}`, status: 404, code: "not_found", field: "decision_id"},
		{name: "exception unknown analysis", method: "POST", path: excs, body: `{"analysis_id":99999,"reason":"x"}`, status: 404, code: "not_found", field: "analysis_id"},
		{name: "exception unknown field", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"x","approve":true}`, dec.ID), status: 422, code: "invalid", field: "approve"},
		{name: "exception no reason", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"  "}`, dec.ID), status: 422, code: "invalid", field: "reason"},
		{name: "exception reason too long", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"%s"}`, dec.ID, long(4001)), status: 422, code: "invalid", field: "reason"},
		{name: "exception expiry unreadable", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"x","expiry":"forever"}`, dec.ID), status: 422, code: "invalid", field: "expiry"},
		{name: "exception expiry out of range", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"x","expiry":"400d"}`, dec.ID), status: 422, code: "invalid", field: "expiry"},
		{name: "exception plan of the wrong type", method: "POST", path: excs, body: fmt.Sprintf(`{"analysis_id":%d,"reason":"x","refactoring_plan":{"steps":"all","target_date":"2099-01-01"}}`, blocked.AnalysisID), status: 422, code: "invalid", field: "refactoring_plan.steps"},
		{name: "exception plan with too many steps", method: "POST", path: excs, body: fmt.Sprintf(`{"analysis_id":%d,"reason":"x","refactoring_plan":{"steps":%s,"target_date":"2099-01-01"}}`, blocked.AnalysisID, steps(51)), status: 422, code: "invalid", field: "refactoring_plan.steps"},
		{name: "exception oversize body", method: "POST", path: excs, body: `{"reason":"` + oversize + `"}`, status: 413, code: "too_large"},
		{name: "exception oversize chunked body", method: "POST", path: excs, body: `{"reason":"` + oversize + `"}`, chunked: true, status: 413, code: "too_large"},

		// A request's plan and its withdrawal.
		{name: "plan malformed", method: "PUT", path: plan, body: `{"steps":[`, status: 400, code: "bad_request"},
		{name: "plan steps of the wrong type", method: "PUT", path: plan, body: `{"steps":"split","target_date":"2099-01-01"}`, status: 422, code: "invalid", field: "steps"},
		{name: "plan unknown field", method: "PUT", path: plan, body: `{"steps":["split"],"target_date":"2099-01-01","owner":"me"}`, status: 422, code: "invalid", field: "owner"},
		{name: "plan with too many steps", method: "PUT", path: plan, body: `{"steps":` + steps(51) + `,"target_date":"2099-01-01"}`, status: 422, code: "invalid", field: "steps"},
		{name: "plan step too long", method: "PUT", path: plan, body: `{"steps":["` + long(1001) + `"],"target_date":"2099-01-01"}`, status: 422, code: "invalid", field: "steps[0]"},
		{name: "plan empty step", method: "PUT", path: plan, body: `{"steps":["split"," "],"target_date":"2099-01-01"}`, status: 422, code: "invalid", field: "steps[1]"},
		{name: "plan date unreadable", method: "PUT", path: plan, body: `{"steps":["split"],"target_date":"next year"}`, status: 422, code: "invalid", field: "target_date"},
		{name: "plan date in the past", method: "PUT", path: plan, body: `{"steps":["split"],"target_date":"2001-01-01"}`, status: 422, code: "invalid", field: "target_date"},
		{name: "plan for no request", method: "PUT", path: "/api/v1/exceptions/nope/plan", body: `{"steps":["split"],"target_date":"2099-01-01"}`, status: 404, code: "not_found"},
		{name: "plan oversize body", method: "PUT", path: plan, body: `{"steps":["` + oversize + `"]}`, status: 413, code: "too_large"},
		{name: "cancel with a body", method: "POST", path: cancel, body: `{"reason":"changed my mind"}`, status: 422, code: "invalid", field: "reason"},
		{name: "cancel with a malformed body", method: "POST", path: cancel, body: `{`, status: 400, code: "bad_request"},
		{name: "cancel no request", method: "POST", path: "/api/v1/exceptions/-1/cancel", status: 404, code: "not_found"},

		// Policy upload (see docs/POLICY.md, Error-budget policy): errors name file:line:col.
		{name: "policy malformed YAML", method: "PUT", path: policy, body: "service: ledger\nslo_target: [99.9\n", status: 422, code: "invalid", field: "ledger.yaml:2"},
		{name: "policy target of the wrong type", method: "PUT", path: policy, body: "service: ledger\nslo_target: high\n", status: 422, code: "invalid", field: "ledger.yaml:2:13"},
		{name: "policy target out of range", method: "PUT", path: policy, body: "service: ledger\nslo_target: 100\n", status: 422, code: "invalid", field: "ledger.yaml:2:13"},
		{name: "policy unknown key", method: "PUT", path: policy, body: "service: ledger\nslo_target: 99.9\nsfot_limit: 3\n", status: 422, code: "invalid", field: "ledger.yaml:3:1"},
		{name: "policy for another service", method: "PUT", path: policy, body: "service: other\nslo_target: 99.9\n", status: 422, code: "invalid", field: "service"},
		{name: "policy aliases", method: "PUT", path: policy, body: "service: ledger\nslo_target: 99.9\ndescription: &d x\nwindow: *d\n", status: 422, code: "invalid", field: "ledger.yaml:4:9"},
		{name: "policy empty", method: "PUT", path: policy, body: "", status: 422, code: "invalid", field: "ledger.yaml:1:1"},
		{name: "policy description too long", method: "PUT", path: policy, body: "service: ledger\ndescription: " + long(4001) + "\n", status: 422, code: "invalid", field: "ledger.yaml:2:14"},
		{name: "policy list too long", method: "PUT", path: policy, body: "service: ledger\npolicy:\n  objectives: [" + strings.Repeat("x, ", errorbudget.MaxPolicyList) + "x]\n", status: 422, code: "invalid", field: "ledger.yaml:3:15"},
		// Bounded work: YAML refused by size, nodes, aliases and nesting
		// before it is built (docs/OPERATIONS.md, "Limits").
		{name: "policy over 1 MiB", method: "PUT", path: policy, body: "service: ledger\ndescription: x\n#" + long(policyfile.MaxPolicyBytes) + "\n", status: 422, code: "invalid", field: "ledger.yaml"},
		{name: "policy of 100,000 nested empty lists", method: "PUT", path: policy, body: "service: ledger\n" + strings.Repeat("- []\n", 40000), status: 422, code: "invalid", field: "ledger.yaml:33334:3"},
		{name: "policy nested too deep", method: "PUT", path: policy, body: "service: ledger\nobjectives: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", status: 422, code: "invalid", field: "ledger.yaml:2:77"},
		{name: "policy alias bomb", method: "PUT", path: policy, body: "service: ledger\nx: &a [1]\ny: [" + strings.Repeat("*a, ", 101) + "*a]\n", status: 422, code: "invalid", field: "ledger.yaml:3:405"},
		{name: "policy oversize body", method: "PUT", path: policy, body: "description: " + oversize, status: 413, code: "too_large"},
		{name: "policy oversize chunked body", method: "PUT", path: policy, body: "description: " + oversize, chunked: true, status: 413, code: "too_large"},

		// Variant-budget analysis, both forms (see docs/API.md, Variant budgets).
		{name: "analysis malformed", method: "POST", path: analyze, body: analysis[:len(analysis)-1], status: 400, code: "bad_request"},
		{name: "analysis not an object", method: "POST", path: analyze, body: `[` + analysis + `]`, status: 400, code: "bad_request"},
		{name: "analysis count of the wrong type", method: "POST", path: analyze, body: strings.Replace(analysis, `"analyzed_files":2`, `"analyzed_files":"2"`, 1), status: 422, code: "invalid", field: "analyzed_files"},
		{name: "analysis unknown field", method: "POST", path: analyze, body: strings.Replace(analysis, `"status":`, `"approved":true,"status":`, 1), status: 422, code: "invalid", field: "approved"},
		{name: "analysis delta out of range", method: "POST", path: analyze, body: strings.Replace(analysis, `"delta":5.94`, `"delta":-5.94`, 1), status: 422, code: "invalid", field: "dimensions[0].metrics[0].delta"},
		{name: "analysis total past 2^53", method: "POST", path: analyze, body: strings.Replace(analysis, `"total":10100`, `"total":9007199254740994`, 1), status: 422, code: "invalid", field: "dimensions[0].metrics[0].total"},
		{name: "analysis variant value past 2^53", method: "POST", path: analyze, body: strings.Replace(analysis, `"value":600`, `"value":1e16`, 1), status: 422, code: "invalid", field: "dimensions[0].variants[0].metrics.lines_of_code.value"},
		{name: "analysis status out of range", method: "POST", path: analyze, body: strings.Replace(analysis, `"status":"blocked"`, `"status":"fine"`, 1), status: 422, code: "invalid", field: "status"},
		{name: "analysis too many dimensions", method: "POST", path: analyze, body: dims(variant.MaxAnalysisDimensions), status: 413, code: "too_large", field: "dimensions"},
		{name: "analysis too many variants", method: "POST", path: analyze, body: synthetic(1, variant.MaxDimensionVariants+1, 1, nil), status: 413, code: "too_large", field: "dimensions[0].variants"},
		{name: "analysis too many metrics", method: "POST", path: analyze, body: synthetic(1, 1, variant.MaxDimensionMetrics+1, nil), status: 413, code: "too_large", field: "dimensions[0].metrics"},
		{name: "analysis too many figures", method: "POST", path: analyze, body: synthetic(3, variant.MaxAnalysisFigures/3/10+1, 10, nil), status: 413, code: "too_large", field: "dimensions"},
		{name: "analysis too many violations", method: "POST", path: analyze, body: synthetic(1, 1, 1, func(a *variant.Analysis) {
			a.Violations = make([]variant.Violation, variant.MaxAnalysisViolations+1)
		}), status: 413, code: "too_large", field: "violations"},
		{name: "analysis variant metric not among the dimension's", method: "POST", path: analyze, body: synthetic(1, 1, 1, func(a *variant.Analysis) {
			a.Dimensions[0].Variants[0].Metrics["other"] = variant.VariantMetric{}
		}), status: 422, code: "invalid", field: "dimensions[0].variants[0].metrics.other"},
		{name: "analysis project with markup", method: "POST", path: analyze, body: strings.Replace(analysis, `"project":"fleet-core"`, `"project":"<b>fleet</b>"`, 1), status: 422, code: "invalid", field: "project"},
		{name: "analysis commit too long", method: "POST", path: analyze, body: strings.Replace(analysis, `"commit":"c1"`, `"commit":"`+long(201)+`"`, 1), status: 422, code: "invalid", field: "commit"},
		{name: "analysis branch of the wrong type", method: "POST", path: analyze, body: strings.Replace(analysis, `{`, `{"branch":7,`, 1), status: 422, code: "invalid", field: "branch"},
		{name: "analysis request unknown field", method: "POST", path: analyze, body: `{"project":"fleet-core","commit_sha":"HEAD","force":true}`, status: 422, code: "invalid", field: "force"},
		{name: "analysis request sha of the wrong type", method: "POST", path: analyze, body: `{"commit_sha":42}`, status: 422, code: "invalid", field: "commit_sha"},
		{name: "analysis request baseline too long", method: "POST", path: analyze, body: `{"commit_sha":"HEAD","baseline":"` + long(201) + `"}`, status: 422, code: "invalid", field: "baseline"},
		{name: "analysis oversize body", method: "POST", path: analyze, body: `{"project":"` + oversize + `"}`, status: 413, code: "too_large"},
		{name: "analysis oversize chunked body", method: "POST", path: analyze, body: `{"project":"` + oversize + `"}`, chunked: true, status: 413, code: "too_large"},

		// Strict JSON: a key appears once, and matches its field's name
		// exactly, in every decoder.
		{name: "sli duplicate key in an event", method: "POST", path: sli, body: `{"events":[{"time":"` + hourAgo + `","good":1,"good":0,"total":1}]}`, status: 422, code: "invalid", field: "events[0].good"},
		{name: "sli duplicate events list", method: "POST", path: sli, body: `{"events":[` + event("1", "1") + `],"events":[]}`, status: 422, code: "invalid", field: "events"},
		{name: "sli key in another case", method: "POST", path: sli, body: `{"events":[{"Time":"` + hourAgo + `","good":1,"total":1}]}`, status: 422, code: "invalid", field: "events[0].Time"},
		{name: "evaluate duplicate key", method: "POST", path: eval, body: `{"service":"ledger","version":"1","version":"2"}`, status: 422, code: "invalid", field: "version"},
		{name: "evaluate key in another case", method: "POST", path: eval, body: `{"Service":"ledger","version":"1"}`, status: 422, code: "invalid", field: "Service"},
		{name: "exception duplicate reason", method: "POST", path: excs, body: fmt.Sprintf(`{"decision_id":%d,"reason":"a","reason":"b"}`, dec.ID), status: 422, code: "invalid", field: "reason"},
		{name: "plan key in another case", method: "PUT", path: plan, body: `{"Steps":["split"],"target_date":"2099-01-01"}`, status: 422, code: "invalid", field: "Steps"},
		{name: "analysis request key in another case", method: "POST", path: analyze, body: `{"Project":"fleet-core","commit_sha":"HEAD"}`, status: 422, code: "invalid", field: "Project"},
		{name: "analysis duplicate key", method: "POST", path: analyze, body: strings.Replace(analysis, `"commit":"c1"`, `"commit":"c1","commit":"c2"`, 1), status: 422, code: "invalid", field: "commit"},

		// Methods a route does not serve: 405 with Allow, before any
		// token, sign-in or form check (the full table is TestWrongMethodIs405).
		{name: "ingest read with GET", method: "GET", path: sli, status: 405, code: "method_not_allowed"},
		{name: "plan posted instead of put", method: "POST", path: plan, body: `{}`, status: 405, code: "method_not_allowed"},
		{name: "audit page posted", as: "viewer", method: "POST", path: "/audit", form: url.Values{}, status: 405, field: "POST is not served here"},
		{name: "vote fetched with GET", as: "ccb", method: "GET", path: vote, status: 405, field: "GET is not served here"},

		// Query parameters and path ids.
		{name: "exceptions by unknown status", method: "GET", path: excs + "?status=pending,won", status: 422, code: "invalid", field: "status"},
		{name: "exceptions by unknown kind", method: "GET", path: excs + "?kind=anything", status: 422, code: "invalid", field: "kind"},
		{name: "exceptions by malformed service", method: "GET", path: excs + "?service=" + url.QueryEscape("<b>ledger</b>"), status: 422, code: "invalid", field: "service"},
		{name: "decision id not a number", method: "GET", path: "/api/v1/decisions/12abc", status: 422, code: "invalid", field: "id"},
		{name: "history limit not a number", method: "GET", path: "/api/v1/budget/history?project=fleet-core&limit=ten", status: 422, code: "invalid", field: "limit"},
		{name: "history limit out of range", method: "GET", path: "/api/v1/budget/history?project=fleet-core&limit=0", status: 422, code: "invalid", field: "limit"},
		{name: "history from unreadable", method: "GET", path: "/api/v1/budget/history?project=fleet-core&from=yesterday", status: 422, code: "invalid", field: "from"},
		{name: "history to before from", method: "GET", path: "/api/v1/budget/history?project=fleet-core&from=2026-02-01&to=2026-01-01", status: 422, code: "invalid", field: "to"},
		{name: "violations by unknown state", method: "GET", path: "/api/v1/budget/violations?state=closed", status: 422, code: "invalid", field: "state"},
		{name: "compliance in an unknown format", method: "GET", path: "/api/v1/budget/compliance?project=fleet-core&format=xml", status: 422, code: "invalid", field: "format"},
		{name: "audit from unreadable", as: "viewer", method: "GET", path: "/audit?from=last+week", status: 422, field: "from"},
		{name: "audit to unreadable", as: "viewer", method: "GET", path: "/audit?to=2026-13-01", status: 422, field: "to"},
		{name: "audit unknown format", as: "viewer", method: "GET", path: "/audit?format=xml", status: 422, field: "format"},
		{name: "violations page by unknown state", as: "viewer", method: "GET", path: "/violations?state=closed", status: 422, field: "state"},

		// Forms.
		{name: "new request decision not a number", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {"the last one"}, "reason": {"x"}}, status: 422, field: "Decision number"},
		{name: "new request no reason", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {fmt.Sprint(dec.ID)}, "reason": {""}}, status: 422, field: "reason: required"},
		{name: "new request reason too long", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {fmt.Sprint(dec.ID)}, "reason": {long(4001)}}, status: 422, field: "reason: at most"},
		{name: "new request expiry unreadable", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {fmt.Sprint(dec.ID)}, "reason": {"x"}, "expiry": {"soon"}}, status: 422, field: "expiry: "},
		{name: "new request expiry out of range", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {fmt.Sprint(dec.ID)}, "reason": {"x"}, "expiry": {"30d"}}, status: 422, field: "expiry: at most"},
		{name: "new request unknown decision", as: "viewer", method: "POST", path: "/ccb", form: url.Values{"decision_id": {"99999"}, "reason": {"x"}}, status: 404, field: "decision id: no decision"},
		{name: "vote decision out of range", as: "ccb", method: "POST", path: vote, form: url.Values{"decision": {"abstain"}}, status: 422, field: "decision: must be approve or reject"},
		{name: "vote reject without comment", as: "ccb", method: "POST", path: vote, form: url.Values{"decision": {"reject"}, "comment": {" "}}, status: 422, field: "comment: required to reject"},
		{name: "vote comment too long", as: "ccb", method: "POST", path: vote, form: url.Values{"decision": {"approve"}, "comment": {long(4001)}}, status: 422, field: "comment: at most"},
		{name: "vote on no request", as: "ccb", method: "POST", path: "/ccb/abc/votes", form: url.Values{"decision": {"approve"}}, status: 404, field: "no CCB request"},
		{name: "vote oversize form", as: "ccb", method: "POST", path: vote, form: url.Values{"decision": {"approve"}, "comment": {oversize}}, status: 413, field: "too large"},
		{name: "vote oversize chunked form", as: "ccb", method: "POST", path: vote, form: url.Values{"decision": {"approve"}, "comment": {oversize}}, chunked: true, status: 413, field: "too large"},
		{name: "vote malformed form", as: "ccb", method: "POST", path: vote, body: "decision=approve&comment=%zz", status: 400, field: "unreadable form"},
		{name: "cancel no request page", as: "admin", method: "POST", path: "/ccb/0/cancel", form: url.Values{}, status: 404, field: "no CCB request"},
		{name: "token without a name", as: "admin", method: "POST", path: "/tokens", form: url.Values{"name": {""}, "scopes": {"read"}}, status: 422, field: "name: required"},
		{name: "token name with markup", as: "admin", method: "POST", path: "/tokens", form: url.Values{"name": {"<b>ci</b>"}, "scopes": {"read"}}, status: 422, field: "name: 1 to 100"},
		{name: "token name too long", as: "admin", method: "POST", path: "/tokens", form: url.Values{"name": {long(101)}, "scopes": {"read"}}, status: 422, field: "name: 1 to 100"},
		{name: "token unknown scope", as: "admin", method: "POST", path: "/tokens", form: url.Values{"name": {"ci"}, "scopes": {"read", "root"}}, status: 422, field: "scopes: unknown scope"},
		{name: "token no scope", as: "admin", method: "POST", path: "/tokens", form: url.Values{"name": {"ci"}}, status: 422, field: "scopes: at least one"},
		{name: "revoke no token", as: "admin", method: "POST", path: "/tokens/9999/revoke", form: url.Values{}, status: 404, field: "no token 9999"},
		{name: "revoke token id not a number", as: "admin", method: "POST", path: "/tokens/one/revoke", form: url.Values{}, status: 404, field: "no token"},
	}

	before := fingerprint(t, h.Store)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.name == "sli long idempotency key" {
				header = []string{"Idempotency-Key", long(256)}
			}
			resp, body := sendBad(t, h, agents, tc, header...)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %.300s", resp.StatusCode, tc.status, body)
			}
			if tc.as == "" {
				var e apiError
				if err := json.Unmarshal([]byte(body), &e); err != nil {
					t.Fatalf("not a JSON error: %.300s", body)
				}
				if e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
					t.Fatalf("code %q field %q (%s), want code %q field %q", e.Error.Code, e.Error.Field, e.Error.Message, tc.code, tc.field)
				}
				return
			}
			if !strings.Contains(body, tc.field) {
				t.Fatalf("the page does not say %q:\n%.2000s", tc.field, body)
			}
		})
	}
	sameData(t, before, fingerprint(t, h.Store))
	// And the blocked baseline of the fixtures still closes its gate.
	if g := variantGate(t, h); g.Allowed {
		t.Errorf("after the battery the variant gate is open: %s", g.Reason)
	}
}

// sendBad sends one case: with the token, or as an agent with its cookie
// and form token.
func sendBad(t *testing.T, h *harness, agents map[string]*agent, tc badCase, header ...string) (*http.Response, string) {
	t.Helper()
	body, ctype := tc.body, tc.ctype
	var a *agent
	if tc.as != "" {
		a = agents[tc.as]
		if tc.form != nil {
			f := cloneValues(tc.form)
			f.Set("csrf", a.CSRF)
			body = f.Encode()
		}
		if tc.method == "POST" && ctype == "" {
			ctype = "application/x-www-form-urlencoded"
		}
		if tc.body != "" {
			body = tc.body + "&csrf=" + url.QueryEscape(a.CSRF)
		}
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
		if tc.chunked {
			r = io.MultiReader(r) // hides the length: the client sends it chunked
		}
	}
	req, err := http.NewRequest(tc.method, h.URL+tc.path, r)
	if err != nil {
		t.Fatal(err)
	}
	if a != nil {
		req.AddCookie(a.Cookie)
	} else {
		req.Header.Set("Authorization", "Bearer "+h.Token)
		ctype = "application/json"
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
