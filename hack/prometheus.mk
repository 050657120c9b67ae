# Prometheus, twice:
# - the Debian package, which the Prometheus metrics-source tests start (adapters/prometheus,
#   TestRealPrometheus); CI runs as root, so there is no sudo; the install runs only when
#   the binary is missing;
# - bin/prometheus, built from the Go module proxy (hack/prometheus pins it), which the demo
#   starts with --source prometheus: Debian builds its package without kubernetes_sd_configs,
#   and the demo discovers its pods through the local API server. Only the kubernetes
#   service discovery is compiled in (Prometheus's remove_all_sd/enable_kubernetes_sd tags).
# Included by the top-level Makefile; it also works alone: make -f hack/prometheus.mk prometheus.

BIN ?= $(CURDIR)/bin
PROMETHEUS_SERVER := /usr/bin/prometheus
PROMETHEUS_HACK := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

##@ Metric sources

.PHONY: prometheus
prometheus: ## Install the Prometheus server (Debian package) for the metric-source tests.
	@if [ -x $(PROMETHEUS_SERVER) ]; then \
		echo "$(PROMETHEUS_SERVER) is installed: $$($(PROMETHEUS_SERVER) --version 2>&1 | head -n1)"; \
	else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; \
	fi

# The module's v0.3XX.Y is Prometheus 3.XX.Y; stamped, since an unstamped build has no version.
.PHONY: demo-prometheus
demo-prometheus: $(BIN)/prometheus ## Build the demo's Prometheus (with kubernetes_sd_configs) into bin/ (cached).

$(BIN)/prometheus: $(PROMETHEUS_HACK)/prometheus/go.mod $(PROMETHEUS_HACK)/prometheus/go.sum
	@mkdir -p $(@D)
	cd $(PROMETHEUS_HACK)/prometheus && \
	v=$$(GOWORK=off go list -m -f '{{.Version}}' github.com/prometheus/prometheus) && \
	minor=$$(echo "$$v" | cut -d. -f2) && patch=$$(echo "$$v" | cut -d. -f3) && \
	GOWORK=off go build -trimpath -tags remove_all_sd,enable_kubernetes_sd -o $@.tmp \
		-ldflags "-s -w -X github.com/prometheus/common/version.Version=3.$$((minor - 300)).$$patch -X github.com/prometheus/common/version.Revision=$$v" \
		github.com/prometheus/prometheus/cmd/prometheus
	mv -f $@.tmp $@ && touch $@
