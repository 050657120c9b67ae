// Package democluster starts a local cluster in which pods really run: the control plane of
// internal/testcluster (etcd, kube-apiserver, kruise-manager) plus kube-scheduler,
// kube-controller-manager (garbage collector and namespace controller only) and kwok, which
// plays the kubelet of a few fake Nodes.
//
// Every address is a loopback one: the servers bind 127.0.0.1, each fake Node has an
// InternalIP 127.0.0.(10+i) and the pod CIDR 127.1.i.0/24, from which kwok assigns pod IPs.
// Whoever emulates a pod's server can therefore listen on the pod's IP, and nothing ever
// sends a packet outside 127.0.0.0/8. A bound pod turns Running and Ready after a
// configurable start-up delay; a deleted one is removed by kwok.
//
// The binaries are built by `make democluster` into the ignored bin/ folder
// (hack/controlplane.mk). It imports internal/testcluster and nothing of streamscaler's
// own packages but the API types.
package democluster
