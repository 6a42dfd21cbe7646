# budgetgate: the two commands that matter are `make run` and `make test`.
GO      ?= go
BIN     := bin/budgetgate
DATA    ?= data
ADDR    ?= 127.0.0.1:8080

.PHONY: run run.prometheus dev.variant-budget test build generate check bench fuzz fuzz-smoke race clean

## run: serve the dashboard on :8080 with demo data under ./data
run:
	@echo "Building budgetgate (the first build takes a minute or two), then serving http://$(ADDR) with data under $(DATA)/"
	$(GO) run ./cmd/budgetgate serve --demo --dev-idp --addr $(ADDR) --db $(DATA)/budgetgate.db

## run.prometheus: the same demo with an SLO pulled from Prometheus (Debian's
## prometheus package): a local Prometheus on 127.0.0.1:9090, data under
## ./data/prometheus, scrapes budgetgate's own /metrics on 127.0.0.1:8080, and
## the service budgetgate (demo/prometheus/policies) pulls its availability
## from it. Prometheus stops with the server.
run.prometheus:
	@command -v prometheus >/dev/null || { echo "prometheus is not installed (Debian: apt-get install prometheus); make run works without it"; exit 1; }
	@mkdir -p $(DATA)/prometheus
	@prometheus --config.file=demo/prometheus/prometheus.yml --storage.tsdb.path=$(DATA)/prometheus \
	  --web.listen-address=127.0.0.1:9090 --log.level=warn & prom=$$!; trap 'kill $$prom 2>/dev/null' EXIT INT TERM; \
	$(GO) run ./cmd/budgetgate serve --demo --dev-idp --addr 127.0.0.1:8080 --db $(DATA)/budgetgate.db \
	  --policies demo/prometheus/policies --prometheus http://127.0.0.1:9090

## dev.variant-budget: the same server, for the variant-budget quick start: the demo
## repository (data/demo-repo) is project fleet-core, the one POST /api/v1/budget/analyze analyses
dev.variant-budget:
	@echo "WARNING: the API answers calls without a token (--dev-open-api): for the local quick start only"
	$(GO) run ./cmd/budgetgate serve --demo --dev-idp --dev-open-api --addr $(ADDR) --db $(DATA)/budgetgate.db

## test: the whole suite (vet, generated code up to date, unit, handler, end-to-end),
## then a short pass of every fuzz target
test: check
	$(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory fuzz-smoke

## check: what CI refuses: stale templ output, unformatted code, vet findings
check:
	$(GO) tool templ generate >/dev/null 2>&1
	@git diff --exit-code -- '*_templ.go' || (echo "templ output is stale: run make generate and commit" && exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1)
	$(GO) vet ./...

## build: the binary in ./bin
build:
	$(GO) build -o $(BIN) ./cmd/budgetgate

## generate: regenerate templ components
generate:
	$(GO) tool templ generate

## bench: the benchmarks behind docs/PERFORMANCE.md
# The figures of docs/PERFORMANCE.md: each benchmark sets its subject beside
# its reference (plain SQLite inserts, the read floor) in the same run.
bench:
	$(GO) test -run '^$$' -bench 'AnalyzeGoroot|Change20Files|InFileOverhead' -benchtime 5x -count 1 -timeout 20m ./analyze/
	$(GO) test -run '^$$' -bench Server -benchtime 1x -count 1 -timeout 30m ./loadtest/
	$(GO) test -run '^$$' -bench 'GlobPathological|GlobLongPattern' -benchtime 5000x -count 3 ./variant/
	$(GO) test -run '^$$' -bench PostLargestAnalysis -benchtime 3x -count 1 -timeout 10m ./web/
	$(GO) test -run '^$$' -bench 'PrometheusBackfill|PrometheusFollow' -benchtime 1x -count 1 -timeout 30m ./promsli/

## fuzz: run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=5m). The
## targets are those the test binary lists; each package's instrumented test
## binary is built once and run per target, as go test -fuzz would link it
## again for every target. The corpus is kept where go test keeps it.
FUZZTIME ?= 30s
fuzz:
	@bin=$$(mktemp -d) && trap 'rm -rf "$$bin"' EXIT && cache=$$($(GO) env GOCACHE)/fuzz && \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  pkg=$$($(GO) list $$dir) && $(GO) test -c -fuzz=. -o "$$bin/fuzz.test" $$dir || exit 1; \
	  for target in $$(cd $$dir && "$$bin/fuzz.test" -test.list '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    (cd $$dir && "$$bin/fuzz.test" -test.run='^$$' -test.fuzz="^$$target$$" -test.fuzztime=$(FUZZTIME) \
	      -test.fuzzcachedir="$$cache/$$pkg") || exit 1; \
	  done; \
	done

## fuzz-smoke: every fuzz target for FUZZSMOKE inputs each, part of make test: a
## quick look beyond the seed corpus. Counted in inputs, not seconds: a time
## limit can end on a slow input and fail with "context deadline exceeded".
FUZZSMOKE ?= 2000x
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSMOKE)

## race: the concurrency tests (votes, ingest, analyses, Idempotency-Key
## races) under the race detector; not part of make test, as building with
## -race takes a minute or two
race:
	$(GO) test -race -count=1 -run 'Concurrent|Idempoten' ./web/ ./db/

clean:
	rm -rf bin $(DATA)
