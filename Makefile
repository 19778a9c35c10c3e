# Build, run and test the bridge. `make up` brings up the local cluster and
# the bridge; `make test` runs every test, end to end on that cluster.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
GOFLAGS_STATIC := CGO_ENABLED=0
E2E_TIMEOUT ?= 40m
# Fuzzing budgets are counts of runs, not durations: a duration races Go
# 1.26's fuzzing coordinator at its deadline (golang/go#75804) and fails
# with "context deadline exceeded" on a busy machine.
FUZZ_RENDER ?= 20000x
FUZZ_HOSTLIST ?= 300000x

.PHONY: all build up down test unit e2e e2e-direct bench bench-smoke fmt vet clean

all: build

build:
	@mkdir -p bin
	bash bridge/webui/vendor.sh
	$(GOFLAGS_STATIC) $(GO) build -o bin/det ./cmd/det
	$(GOFLAGS_STATIC) $(GO) build -o bin/det-launcher ./cmd/det-launcher
	$(GO) build -o bin/det-bridge ./cmd/det-bridge

up: build
	bash devcluster/up.sh
	bash devcluster/bridge.sh start
	bash devcluster/prometheus.sh start
	@echo
	@echo "Next: bin/det notebook start      (then: bin/det notebook list, logs ID -f, kill ID)"

down:
	-bash devcluster/prometheus.sh stop
	-bash devcluster/bridge.sh stop
	bash devcluster/down.sh

unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -run='^$$' -fuzz=FuzzRenderJob -fuzztime=$(FUZZ_RENDER) ./bridge/
	$(GO) test -run='^$$' -fuzz=FuzzExpandHostlist -fuzztime=$(FUZZ_HOSTLIST) ./slurm/
	for f in site-configs/*.yaml; do $(GO) run ./cmd/det-bridge check-config --offline $$f || exit 1; done

# The end-to-end tests need the cluster and the bridge; `up` brings them up.
e2e: up
	DET_E2E=1 DET_MASTER=http://127.0.0.1:8080 SLURM_CONF=$(CURDIR)/.devcluster/slurm.conf \
		$(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v -run . ./e2e/

# The whole end-to-end suite again with the bridge in direct mode (jobs
# hold a port the bridge connects to), then the bridge back as configured.
e2e-direct: up
	DET_PROXY_MODE=direct bash devcluster/bridge.sh restart
	DET_E2E=1 DET_E2E_PROXY_MODE=direct DET_MASTER=http://127.0.0.1:8080 SLURM_CONF=$(CURDIR)/.devcluster/slurm.conf \
		$(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v -run . ./e2e/; rc=$$?; bash devcluster/bridge.sh restart; exit $$rc

test: unit e2e e2e-direct

# Benchmarks against the peers; results go to bench/results/.
bench: up
	bash bench/run.sh

# A short run that only checks the benchmark suite works.
bench-smoke: up
	BENCH_SMOKE=1 bash bench/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
