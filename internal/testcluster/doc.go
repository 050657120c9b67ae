// Package testcluster starts a real control plane for the controller integration tests:
// etcd and kube-apiserver through controller-runtime's envtest, and a real kruise-manager
// as a subprocess, with streamscaler's and Kruise's CRDs installed.
//
// The binaries are built by `make controlplane` into the ignored bin/ folder
// (hack/controlplane.mk); tests skip when they are missing, except under CI=true.
// There is no scheduler and no kubelet: pods stay unbound and SetPodReady stands in for
// the kubelet's status updates.
//
// It is for tests only: nothing outside _test.go files may import it, except
// internal/democluster, which adds a scheduler, a controller manager and kwok to it.
package testcluster
