# streamscaler: make help lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN            ?= $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
# Every test runs under the race detector: the controller's workers, the shared pod-HTTP
# client and the metrics API server are concurrent.
GO_TEST_FLAGS  ?= -race
FUZZTIME       ?= 10s

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-12s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code and the CRD from the API types.
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd:crdVersions=v1 paths=./api/... output:crd:dir=deploy/crd
	$(CONTROLLER_GEN) rbac:roleName=streamscaler paths=./autoscaler/controller/... output:rbac:dir=deploy/rbac
	cp deploy/crd/streamscaler.io_scalingpolicies.yaml deploy/chart/streamscaler/crds/  # Helm reads only the chart's files

.PHONY: verify
verify: generate ## Fail when generated files are stale, code is unformatted or go.mod is untidy.
	@test -z "$$(git status --porcelain -- api deploy/crd deploy/rbac)" || { git status --porcelain -- api deploy/crd deploy/rbac; git diff -- api deploy/crd deploy/rbac | head -40; echo "generated files are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go mod tidy -diff
	cd hack && go mod tidy -diff
	$(IMAGE_GO_ENV) go vet -trimpath ./...

.PHONY: build
build: ## Build bin/streamscaler.
	go build -o $(BIN)/streamscaler ./cmd/streamscaler

# Every fuzz target, as package:function; `make fuzz` gives each FUZZTIME.
FUZZ_TARGETS := ./adapters/trace:FuzzParse ./statemachine:FuzzMachine \
	./adapters/srs:FuzzParseSummaries ./adapters/srs:FuzzParseClients ./adapters/srs:FuzzParseStreams \
	./adapters/prometheus:FuzzResponse ./adapters/prometheus:FuzzQuote \
	./api/v1alpha1/crdvalidation:FuzzParseEvents

# The control plane builds one binary at a time: on two cores and empty caches, three at
# a time (make -j3) bought nothing (the tests began at 37.5 min, as before) and hid each
# build's output until it ended.
.PHONY: test
test: controlplane prometheus demo-prometheus ## Build the real control plane (cached in bin/) and install Prometheus, then run every test under the race detector, a short fuzz run of each parser, and the image test (two builds of the image).
	$(IMAGE_GO_ENV) go build -trimpath ./...
	$(IMAGE_GO_ENV) go vet -trimpath ./...
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) fuzz
	$(MAKE) image-test

.PHONY: fuzz
fuzz: ## Fuzz every parser for FUZZTIME each (default 10s).
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; log=$$(mktemp); \
		echo "fuzzing $$fn in $$pkg for $(FUZZTIME)"; \
		before=$$( (ls $$pkg/testdata/fuzz/$$fn 2>/dev/null || true) | wc -l); \
		if go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s "$$pkg" > $$log 2>&1; then tail -n 2 $$log; continue; fi; \
		cat $$log; \
		if [ "$$( (ls $$pkg/testdata/fuzz/$$fn 2>/dev/null || true) | wc -l)" != "$$before" ]; then echo "$$fn found a failing input (in $$pkg/testdata/fuzz/$$fn)"; exit 1; fi; \
		echo "$$fn failed without a failing input (the fuzzing engine, not the code): once more"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s "$$pkg" | tail -n 2 || exit 1; \
	done

.PHONY: test-unit
test-unit: ## Only the tests that need no control plane (the controller tests skip).
	go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: ## Run the Go benchmarks (one decision over 100 pods, ...).
	go test -run '^$$' -bench . -benchmem ./...

##@ Simulation

DEMO_FLAGS ?=

.PHONY: demo
demo: controlplane demo-prometheus build ## Run the real controller on a local cluster with an emulated SRS fleet: five hours of a World Cup 98 afternoon in about five minutes; plot in demo.png.
	$(BIN)/streamscaler demo --plot demo.png $(DEMO_FLAGS)

# The issue's target, 1,000 policies x 100 pods, with the Prometheus source (at 100,000 pods
# an annotation writer cannot keep its pace on two cores) and the client rates that build
# the fleets in under half an hour each. SCALE_FLAGS="--policies 100 --pods-per-policy 10
# --source prometheus" took about 3 minutes.
SCALE_FLAGS ?= --policies 1000 --pods-per-policy 100 --source prometheus --workers 8 --kruise-qps 300 --kube-api-qps 300 --kube-api-burst 600

.PHONY: scale-bench
scale-bench: controlplane demo-prometheus build ## Measure the controller on the real API server with N policies x M pods and print one JSON line (SCALE_FLAGS; default 1000 x 100 pods, 87 min on 2 cores).
	$(BIN)/streamscaler scale-bench $(SCALE_FLAGS)

TRACE  ?= testdata/traces/wc98_requests_per_minute.csv
COLUMN ?= count
POLICY ?= testdata/policies/srs-edge.yaml
FROM   ?= 1998-06-10T00:00:00Z
TO     ?= 1998-07-13T00:00:00Z
# How the simulated fleet's dispatcher places new streams in make sweep: spread or packed
# (empty: the policy file's profile decides, spread unless it says otherwise).
DISPATCH ?=

.PHONY: simulate
simulate: build ## Replay the World Cup 98 tournament weeks; table on stdout, plot in simulate.png.
	$(BIN)/streamscaler simulate --trace $(TRACE) --column $(COLUMN) --policy $(POLICY) --from $(FROM) --to $(TO) --plot simulate.png

.PHONY: sweep
sweep: build ## Replay every trace window of testdata/sweep.yaml under every policy for seeds 1-3: one table, then issue 12's targets checked. DISPATCH=packed packs new streams.
	$(BIN)/streamscaler sweep --manifest testdata/sweep.yaml --policy $(POLICY) --seeds 1,2,3 $(if $(DISPATCH),--dispatch $(DISPATCH))

##@ Image

# What the image is stamped with. The commit time is every timestamp in it, so the same
# commit gives the same image digest (docs/image.md).
VERSION           ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT            ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: image
image: ## Build bin/streamscaler-image.tar, the linux/amd64 and linux/arm64 OCI image, without Docker (load it with docker load -i or kind load image-archive; docs/image.md).
	cd hack/image && SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go run . -root $(CURDIR) -out $(BIN)/streamscaler-image.tar -version $(VERSION) -commit $(COMMIT)

# The image's linux/amd64 build settings (hack/image compile()). make test builds every
# package with them first, so that the image test's amd64 build finds them compiled; on
# a cold build cache the image test then compiles only for arm64. go vet (-trimpath) and
# the binaries the tests build (without cgo, -trimpath) use the same compiled packages, so
# the dependencies are compiled once for all of them; the race detector needs cgo and
# compiles its own.
IMAGE_GO_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOAMD64=v1

.PHONY: image-test
# -count=1: the image is built by a go subprocess from the project's sources, which go
# test's result cache does not see, so a cached pass could hide a change that breaks it.
image-test: ## Build the image twice and check it is reproducible and holds what it should.
	cd hack/image && go test -count=1 -timeout 30m ./...

include hack/controlplane.mk
include hack/prometheus.mk


$(CONTROLLER_GEN): hack/go.mod hack/go.sum
	cd hack && go build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen
