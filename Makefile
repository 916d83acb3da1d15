# Ringcast. `make run` starts the broker, `make test` runs every test
# (installing what the tests need first), `make check` is what CI runs.
GO ?= go
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin

.PHONY: run build test test-deps test-short fuzz bench lint fmt vet check

run:
	$(GO) run ./cmd/ringcast

build:
	$(GO) build -o ringcast ./cmd/ringcast

# test runs the whole suite under the race detector (the console's
# JavaScript tests run inside go test ./web), after installing anything the
# tests need that is missing.
test: test-deps
	$(GO) test -race -count=1 -timeout 20m ./...

# test-deps: node and npm must be there; Debian's chromium (the browser
# tests drive it with Playwright), haproxy and nginx (deploy's
# load-balancer end-to-end tests) and redis-server (the redis engine's
# tests start their own) are installed with apt-get when missing, and
# web/e2e's npm packages when missing or when package-lock.json is newer
# than node_modules.
APT_TEST_DEPS := /usr/bin/chromium:chromium /usr/sbin/haproxy:haproxy /usr/sbin/nginx:nginx /usr/bin/redis-server:redis-server /usr/bin/redis-cli:redis-tools
test-deps:
	@command -v node >/dev/null || { echo "make test: node is required for the console's JavaScript tests (apt-get install nodejs)"; exit 1; }
	@command -v npm >/dev/null || { echo "make test: npm is required to install the tests' packages (apt-get install npm)"; exit 1; }
	@missing=""; for dep in $(APT_TEST_DEPS); do test -x "$${dep%%:*}" || missing="$$missing $${dep#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make test: installing$$missing with apt-get"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  { $$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y $$missing; } || \
	  { echo "make test: apt-get install -y$$missing failed; the tests need them"; exit 1; }; \
	  for dep in $(APT_TEST_DEPS); do test -x "$${dep%%:*}" || { echo "make test: $${dep%%:*} is still missing after apt-get"; exit 1; }; done; \
	fi
	@test web/e2e/node_modules/.package-lock.json -nt web/e2e/package-lock.json || \
	  npm ci --prefix web/e2e --no-audit --no-fund || \
	  { echo "make test: npm ci --prefix web/e2e failed; the JavaScript tests need playwright-core, ws and typescript"; exit 1; }

# test-short skips the heavy tests (stress, long integration runs).
test-short:
	$(GO) test -short -count=1 ./...

# fuzz runs every fuzz target briefly. The budget is a count of executions
# (FUZZTIME=1000000x for longer): with a duration, Go 1.26's fuzz
# coordinator can report the deadline itself as a failure, with no failing
# input (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 200000x
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# bench runs the Go micro-benchmarks and a short ringcast bench suite (the
# broker pinned to core 0, the load to core 1, every run bounded) and writes
# the generated section of bench/RESULTS.md; knobs in bench/run.sh.
bench:
	GO=$(GO) bash bench/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@test -x $(GOBIN)/staticcheck || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

check: lint test
