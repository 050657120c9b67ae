# The real Prometheus server that the Prometheus metrics-source tests start
# (adapters/prometheus, TestRealPrometheus), from Debian's package. Included by the
# top-level Makefile; it also works alone: make -f hack/prometheus.mk prometheus.
# CI runs as root, so there is no sudo; the install runs only when the binary is missing.

PROMETHEUS_SERVER := /usr/bin/prometheus

##@ Metric sources

.PHONY: prometheus
prometheus: ## Install the Prometheus server (Debian package) for the metric-source tests.
	@if [ -x $(PROMETHEUS_SERVER) ]; then \
		echo "$(PROMETHEUS_SERVER) is installed: $$($(PROMETHEUS_SERVER) --version 2>&1 | head -n1)"; \
	else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; \
	fi
