# Northstar. "make run" serves with demo data; "make test" runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# The machine's go1.26.8 has standard-library vulnerabilities an HTTP server
# can reach; the go command fetches go1.27.3 from the module proxy once.
export GOTOOLCHAIN := go1.27.3

POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
VENDOR := internal/web/static/vendor
ASSETS := $(VENDOR)/htmx.min.js $(VENDOR)/Sortable.min.js
BINARY := bin/northstar
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/northstar-pm/northstar.Version=$(VERSION)

.PHONY: run build test assets fmt-check vet chromium bench clean fuzz vulncheck

run: build
	./$(BINARY) serve --demo

build: assets
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/northstar

# Front-end libraries come from npm at build time and are embedded; they
# are never committed.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/htmx.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/Sortable.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/sortablejs/Sortable.min.js $@

assets: $(ASSETS)

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# Browser tests drive Debian's Chromium headless.
chromium:
	@if ! command -v chromium >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Every Go test on SQLite, and on PostgreSQL when it answers. Under CI=true
# PostgreSQL must answer.
test: assets chromium fmt-check vet vulncheck
	@if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		export NORTHSTAR_TEST_POSTGRES='$(POSTGRES_URL)'; echo "testing on SQLite and PostgreSQL"; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "CI=true but PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer on 127.0.0.1:5432: testing SQLite only"; \
	fi; \
	export NORTHSTAR_BROWSER=$$(command -v chromium); \
	go test -count=1 -timeout 30m $$(go list ./... | grep -v /internal/e2e) && \
	echo "browser tests, on their own so that page timing does not compete with the other packages" && \
	{ go test -count=1 -timeout 20m ./internal/e2e/ || { \
		echo "browser tests failed; running them once more to tell a timing flake of the headless browser from a failure"; \
		go test -count=1 -timeout 20m ./internal/e2e/; }; } && \
	$(MAKE) --no-print-directory fuzz FUZZTIME=4s

# Every fuzz target (each "func Fuzz…" in a test file) runs for FUZZTIME
# on its seeds (f.Add and testdata/fuzz/) and what the fuzzer finds; make
# test runs each for 4s (about 10s with the build and the corpus replay, so
# under two minutes in all). A failing input is written to testdata/fuzz/.
FUZZTIME ?= 10s
fuzz:
	@for file in $$(grep -rl --include='*_test.go' --exclude-dir=node_modules '^func Fuzz' . | sort); do \
		dir=$$(dirname $$file); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			out=$$(go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$dir 2>&1) || { echo "$$out"; exit 1; }; \
			echo "$$name ($$dir): $$(echo "$$out" | grep '^fuzz: elapsed' | tail -1 | cut -d' ' -f3-)"; \
		done; \
	done

bench: assets
	NORTHSTAR_TEST_POSTGRES='$(POSTGRES_URL)' go test -run '^$$' -bench . -benchmem ./...

# The soak test: the real server under steady load for SOAKTIME, checking
# that its memory, threads and open files stay flat (cmd/northstar/soak_test.go).
# Not part of make test. The go test timeout leaves room for SOAKTIME up to 2h.
SOAKTIME ?= 10m
.PHONY: soak
soak: assets
	NORTHSTAR_SOAK=$(SOAKTIME) go test -count=1 -run '^TestSoak$$' -v -timeout 3h ./cmd/northstar/

clean:
	rm -rf bin node_modules $(VENDOR)

# govulncheck (pinned in tools/go.mod) checks the code against an offline Go
# vulnerability database and fails on a vulnerability the code can reach.
# tools/vulndb builds the database from the golang.org/x/vulndb module, whose
# hash is pinned here, into .cache/ once per version; its tests include a
# scan that must fail. "make vulncheck GOTOOLCHAIN=go1.26.8" shows the scan
# failing on the machine's own toolchain. go.sum is checked by go mod verify,
# package-lock.json by npm ci.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_SUM := h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI=
VULNDB := $(CURDIR)/.cache/vulndb/$(VULNDB_VERSION)

$(VULNDB)/index/modules.json:
	cd tools && go run ./vulndb -version $(VULNDB_VERSION) -sum $(VULNDB_SUM) -out $(VULNDB)

vulncheck: assets $(VULNDB)/index/modules.json
	go mod verify
	cd tools && go mod verify && go test -count=1 ./vulndb/
	cd tools && go tool govulncheck -C $(CURDIR) -db file://$(VULNDB) ./...
