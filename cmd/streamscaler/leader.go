package main

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// serviceAccountNamespace is where the kubelet writes the pod's namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// leaseNamespace is where the leader election lease goes: --leader-election-namespace,
// else the pod's namespace in a cluster, else the kubeconfig context's namespace
// ("default" when the context names none), so that the controller run from a laptop
// elects a leader without a flag, as kubectl would pick the namespace.
func leaseNamespace(flag, kubeconfig string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if data, err := os.ReadFile(serviceAccountNamespace); err == nil && len(data) > 0 {
		return string(data), nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).Namespace()
	if err != nil {
		return "", fmt.Errorf("finding a namespace for the leader election lease (use --leader-election-namespace): %w", err)
	}
	return ns, nil
}

// leaderLabel puts v1alpha1.LeaderLabel on the pod this replica runs in while it leads,
// so that the external metrics API's Service, which selects that label, routes to the
// replica that decides and publishes. It runs only on the leader (the manager starts it
// once elected); the label is removed when the replica stops leading or stops, and on
// start by every replica, in case a killed leader left it behind. The pod is named by
// the POD_NAME and POD_NAMESPACE environment variables (the downward API); without
// them, out of a cluster, there is nothing to label.
type leaderLabel struct {
	c   client.Client
	pod types.NamespacedName
}

// newLeaderLabel reads the pod's name from the environment; ok is false out of a cluster.
func newLeaderLabel(c client.Client) (l leaderLabel, ok bool) {
	name, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || ns == "" {
		return leaderLabel{}, false
	}
	return leaderLabel{c: c, pod: types.NamespacedName{Namespace: ns, Name: name}}, true
}

// set adds the label (on) or removes it, retrying a failed write for up to a minute.
func (l leaderLabel) set(ctx context.Context, on bool) error {
	value := "null" // a merge patch removes a label set to null
	if on {
		value = `"true"`
	}
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%s}}}`, v1alpha1.LeaderLabel, value)
	return wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 8, Cap: 15 * time.Second}, func(ctx context.Context) (bool, error) {
		err := l.c.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: l.pod.Namespace, Name: l.pod.Name}}, client.RawPatch(types.MergePatchType, patch))
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsNotFound(err):
			return false, fmt.Errorf("labelling this replica's pod %s: %w (POD_NAME and POD_NAMESPACE should name it)", l.pod, err)
		default:
			logf.FromContext(ctx).Info("Labelling this replica's pod failed; retrying", "pod", l.pod.String(), "leader", on, "error", err.Error())
			return false, nil
		}
	})
}

// Start labels the pod as the leader's, and removes the label when ctx ends (this
// replica stops leading or stops).
func (l leaderLabel) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("pod", l.pod.String())
	if err := l.set(ctx, true); err != nil {
		// Not fatal: the controller still decides; only the external metrics API is
		// not routed here.
		log.Error(err, "Could not label this replica's pod as the leader's; the external metrics API's Service will not route to it")
	} else {
		log.Info("Labelled this replica's pod as the leader's", "label", v1alpha1.LeaderLabel)
	}
	<-ctx.Done()
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.set(stop, false); err != nil {
		log.Error(err, "Could not remove the leader label from this replica's pod")
	}
	return nil
}
