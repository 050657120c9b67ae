# The real local control plane of the controller integration tests (internal/testcluster):
# kube-apiserver, etcd and kruise-manager; and what the demo cluster (internal/democluster)
# adds so that pods are scheduled and run: kube-scheduler, kube-controller-manager and kwok.
# Each is built from the Go module proxy by a wrapper module under hack/ that pins its
# version. Included by the top-level Makefile, which defines BIN.
# A binary is rebuilt only when its wrapper's go.mod or go.sum is newer than it.

BIN ?= $(CURDIR)/bin

# The folder of this fragment, so that it also works when included from elsewhere.
CONTROLPLANE_HACK := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# GOWORK=off: each wrapper is its own module, whatever workspace surrounds it.
CONTROLPLANE_GO := GOWORK=off go

##@ Control plane

.PHONY: controlplane
controlplane: $(BIN)/k8s/kube-apiserver $(BIN)/k8s/etcd $(BIN)/kruise-manager $(BIN)/kruise/webhook/manifests.yaml democluster ## Build kube-apiserver, etcd, kruise-manager and the demo cluster's binaries into bin/ (cached).

.PHONY: democluster
democluster: $(BIN)/k8s/kube-scheduler $(BIN)/k8s/kube-controller-manager $(BIN)/kwok ## Build only what the demo cluster adds: kube-scheduler, kube-controller-manager, kwok (cached).

# Test fixtures, never debugged: linked without symbol tables or DWARF (-s -w), so the
# linker writes less (kube-apiserver: 102 MB against 146 MB).
STRIP_LDFLAGS := -s -w

# Unstamped Kubernetes binaries call themselves v0.0.0-master+$Format:%H$, so the version
# pinned in hack/kube/go.mod is stamped in. The three share one wrapper module and one
# go build, which loads the module graph once and, under make -j, compiles the packages
# they share once.
KUBE_COMMANDS := kube-apiserver kube-scheduler kube-controller-manager
KUBE_BINARIES := $(addprefix $(BIN)/k8s/,$(KUBE_COMMANDS))

$(KUBE_BINARIES) &: $(CONTROLPLANE_HACK)/kube/go.mod $(CONTROLPLANE_HACK)/kube/go.sum
	@rm -rf $(BIN)/k8s/.build && mkdir -p $(BIN)/k8s/.build
	cd $(CONTROLPLANE_HACK)/kube && \
	v=$$($(CONTROLPLANE_GO) list -m -f '{{.Version}}' k8s.io/kubernetes) && \
	major=$$(echo "$$v" | cut -d. -f1 | tr -d v) && minor=$$(echo "$$v" | cut -d. -f2) && \
	$(CONTROLPLANE_GO) build -trimpath -o $(BIN)/k8s/.build/ \
		-ldflags "$(STRIP_LDFLAGS) -X k8s.io/component-base/version.gitVersion=$$v -X k8s.io/component-base/version.gitMajor=$$major -X k8s.io/component-base/version.gitMinor=$$minor -X k8s.io/component-base/version.gitTreeState=clean" \
		$(addprefix k8s.io/kubernetes/cmd/,$(KUBE_COMMANDS))
	for c in $(KUBE_COMMANDS); do mv -f $(BIN)/k8s/.build/$$c $(BIN)/k8s/$$c && touch $(BIN)/k8s/$$c; done
	rmdir $(BIN)/k8s/.build

# kwok's version is a constant in its source, so no stamping.
$(BIN)/kwok: $(CONTROLPLANE_HACK)/kwok/go.mod $(CONTROLPLANE_HACK)/kwok/go.sum
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_HACK)/kwok && $(CONTROLPLANE_GO) build -trimpath -ldflags "$(STRIP_LDFLAGS)" -o $@.tmp sigs.k8s.io/kwok/cmd/kwok
	mv -f $@.tmp $@ && touch $@

$(BIN)/k8s/etcd: $(CONTROLPLANE_HACK)/etcd/go.mod $(CONTROLPLANE_HACK)/etcd/go.sum
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_HACK)/etcd && $(CONTROLPLANE_GO) build -trimpath -ldflags "$(STRIP_LDFLAGS)" -o $@.tmp go.etcd.io/etcd/server/v3
	mv -f $@.tmp $@ && touch $@

$(BIN)/kruise-manager: $(CONTROLPLANE_HACK)/kruise/go.mod $(CONTROLPLANE_HACK)/kruise/go.sum
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_HACK)/kruise && $(CONTROLPLANE_GO) build -trimpath -ldflags "$(STRIP_LDFLAGS)" -o $@.tmp github.com/openkruise/kruise
	mv -f $@.tmp $@ && touch $@

# The Kruise CRDs and webhook manifests the harness installs, copied from the pinned kruise
# module into bin/ (never into the repository).
$(BIN)/kruise/webhook/manifests.yaml: $(CONTROLPLANE_HACK)/kruise/go.mod $(CONTROLPLANE_HACK)/kruise/go.sum
	cd $(CONTROLPLANE_HACK)/kruise && $(CONTROLPLANE_GO) mod download github.com/openkruise/kruise
	dir=$$(cd $(CONTROLPLANE_HACK)/kruise && $(CONTROLPLANE_GO) list -m -f '{{.Dir}}' github.com/openkruise/kruise) && \
	test -n "$$dir" && \
	rm -rf $(BIN)/kruise/crd $(BIN)/kruise/webhook && mkdir -p $(BIN)/kruise/crd $(BIN)/kruise/webhook && \
	cp "$$dir"/config/crd/bases/*.yaml $(BIN)/kruise/crd/ && \
	cp "$$dir"/config/webhook/manifests.yaml $@.tmp && \
	chmod -R u+w $(BIN)/kruise && mv -f $@.tmp $@
