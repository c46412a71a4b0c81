# flightdeck — see README.md. `make help` lists the targets.
GO       ?= go
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/flightdeck

.PHONY: build demo test bench bench-pg bench-serve lint deps kube-bins help

## build: compile bin/flightdeck
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

## demo: the cockpit on the built-in demo incident (no servers needed)
demo: build
	./$(BIN) --demo

## test: lint, then every test with -race against real PostgreSQL, Prometheus,
##       Alertmanager, a real kube-apiserver and moto (AWS), which the tests start themselves
test: deps lint
	@kdir=$$(scripts/kube-bins.sh) && kwok=$$(scripts/kwok-bin.sh) && \
	FLIGHTDECK_REQUIRE_SERVERS=1 FLIGHTDECK_KUBE_BIN_DIR="$$kdir" FLIGHTDECK_KWOK_BIN="$$kwok" \
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: View and source benchmarks (-benchmem), see README "Performance"
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./ui/... ./sources/...

## bench-pg: poll cost vs pg_activity on the same real server (500 sessions)
bench-pg: deps
	scripts/deps.sh --bench
	scripts/bench-pg.sh

## bench-serve: 50 SSH sessions on one world (CPU, bytes/s and memory per session,
##              upstream fetches), and beside one flightdeck in tmux with 50 OpenSSH
##              clients and a local terminal; needs PostgreSQL and sshd, see README
##              "Performance"
bench-serve: deps
	scripts/deps.sh --bench-serve
	$(GO) test -run '^$$' -bench Serve50 -benchtime 10x -count=1 -timeout 60m ./serve/

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## deps: install (as root) or name the Debian packages the tests need
deps:
	scripts/deps.sh

## kube-bins: build kube-apiserver, kube-controller-manager and kubectl v1.31 (cached)
kube-bins:
	scripts/kube-bins.sh

## help: this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
