package controller_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/statemachine"
)

// TestParityWithSimulator feeds the snapshots of a simulated fleet, step by step, to the
// controller's apply path on a fake API server, and checks that the controller makes the
// same pod moves in the same order and the same CloneSet writes as the simulator's fleet
// did with the same pass. The simulator's scores are then claims about this code.
func TestParityWithSimulator(t *testing.T) {
	spec := paritySpec()
	// Pods hold 25 streams, 125% of the target: the rises and the spike are refused.
	steps, err := simulate.NewStepper(parityDemand(), spec, simulate.Profile{StartupSeconds: 150, SessionMeanSeconds: 180, Seed: 3, PodCapacityStreams: 25})
	if err != nil {
		t.Fatal(err)
	}
	src := &replaySource{}
	clk := &stepClock{}
	r := &controller.Reconciler{
		Sources: map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: src}, DefaultSource: v1alpha1.SourceAnnotations,
		Evictors: map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: controller.NoEviction{}}, Clock: clk,
	}
	ctx := logf.IntoContext(context.Background(), logr.Discard())
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "live", Name: "edge"}}
	scheme := fakeScheme(t)
	mapper := testrestmapper.TestOnlyStaticRESTMapper(scheme)
	seen := map[string]int{}
	for k := 0; ; k++ {
		a, more, err := steps.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		rec := &writes{}
		c := parityWorld(fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(mapper), spec, a.Snapshot, rec, k)
		r.Client, r.Reader, r.Target = c, c, &kruise.CloneSets{Reader: c, Writer: c}
		src.values, src.asked = valuesOf(a.Snapshot), false
		clk.now = a.Snapshot.Now
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatalf("step %d: reconcile: %v", k, err)
		}
		at := a.Snapshot.Now.Format(time.TimeOnly)
		if src.asked != a.Due {
			t.Fatalf("step %d (%s): controller read metrics %v, simulator's pass due %v", k, at, src.asked, a.Due)
		}
		if want := simMoves(a.Moves); !reflect.DeepEqual(rec.moves, want) {
			t.Fatalf("step %d (%s): controller moved %v, simulator %v", k, at, rec.moves, want)
		}
		if want := simWrites(a.Writes); !reflect.DeepEqual(rec.scales, want) {
			t.Fatalf("step %d (%s): controller wrote %v, simulator %v", k, at, rec.scales, want)
		}
		kinds := map[statemachine.Event]bool{}
		for _, m := range a.Moves {
			seen[string(m.Transition.Event)]++
			kinds[m.Transition.Event] = true
		}
		if len(kinds) > 1 {
			seen["mixed"]++ // a pass with moves of several kinds, where order shows
		}
		seen["write"] += len(a.Writes)
	}
	// The replay must have gone through every kind of move, or parity proves little. The
	// simulator updates no pod in place, so renew is not among them (the inPlaceUpdate
	// subtest of TestController and TestDecideInPlaceUpdate cover it).
	for _, ev := range append(statemachine.Events(), "write", "mixed") {
		if ev == statemachine.EventRenew {
			continue
		}
		if seen[string(ev)] == 0 {
			t.Errorf("no %s in the replay (seen %v): the demand does not exercise it", ev, seen)
		}
	}
	res := steps.Result()
	t.Logf("moves and writes compared: %v; simulator: %.2f pod-hours, %d evicted, %d rejected", seen, res.PodHours, res.EvictedStreams, res.RejectedStreams)
}

// paritySpec scales on players with short windows and a short drain timeout, so that an
// hour shows every move, and scales in one pod every 30s, so that drains end in passes
// that also tombstone.
func paritySpec() *v1alpha1.ScalingPolicySpec {
	target := resource.MustParse("20")
	rules := func(window, pods, period int32) *v1alpha1.ScalingRules {
		return &v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr.To(window),
			Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: pods, PeriodSeconds: period}}}
	}
	return &v1alpha1.ScalingPolicySpec{
		TargetRef: v1alpha1.TargetRef{Name: "edge"}, MinReplicas: ptr.To(int32(2)), MaxReplicas: 40,
		Metrics: []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: &target}}},
		Behavior: &v1alpha1.Behavior{ScaleUp: rules(0, 8, 15), ScaleDown: rules(30, 1, 15),
			// The spike is refused by full pods: the controller must read the refusals
			// the simulator's dispatcher counts, and grow as the simulator does.
			Saturation: &v1alpha1.SaturationRule{RefusedStreamsPerSecond: ptr.To(resource.MustParse("0.1"))}},
		Tombstone: &v1alpha1.TombstoneSpec{DrainTimeout: &metav1.Duration{Duration: 6 * time.Minute}, IdleStreams: ptr.To(int32(3)), EvictionAction: v1alpha1.EvictNone},
	}
}

// parityDemand rises, holds, falls and rises again while pods drain (they are revived),
// falls, spikes briefly (pods still starting are cancelled) and falls away: 66 minutes
// in 5s steps.
func parityDemand() simulate.Demand {
	start := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	d := simulate.Demand{Start: start, Step: 5 * time.Second}
	shape := []struct {
		minutes  float64
		from, to float64
	}{{10, 50, 600}, {8, 600, 600}, {4, 600, 150}, {2, 150, 550}, {8, 550, 550}, {8, 550, 100}, {5, 100, 100}, {0.5, 700, 700}, {6, 100, 100}, {5, 100, 30}, {10, 30, 30}}
	for _, s := range shape {
		n := int(s.minutes * 12)
		for i := 0; i < n; i++ {
			d.Streams = append(d.Streams, s.from+(s.to-s.from)*float64(i)/float64(n))
		}
	}
	return d
}

// parityWorld is the API server as the snapshot describes it: the policy, its CloneSet
// and every pod with its state, readiness and age.
// The world of step k is new: its CloneSet has a UID of its own, so that the controller's
// expectations (a write of the last step) do not mistake the fake client's fresh
// resourceVersion for a cache that missed that write.
func parityWorld(b *fake.ClientBuilder, spec *v1alpha1.ScalingPolicySpec, s autoscaler.Snapshot, rec *writes, k int) client.Client {
	cs := &kruisev1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge", UID: types.UID(fmt.Sprintf("cloneset-uid-%d", k))},
		Spec: kruisev1alpha1.CloneSetSpec{Replicas: ptr.To(s.Replicas), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "edge"}},
			ScaleStrategy: kruisev1alpha1.CloneSetScaleStrategy{PodsToDelete: s.PodsToDelete}},
	}
	objs := []client.Object{cs, &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge"}, Spec: *spec.DeepCopy()}}
	for _, p := range s.Pods {
		ready := corev1.ConditionFalse
		if p.Ready {
			ready = corev1.ConditionTrue
		}
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: "live", Name: p.Name, CreationTimestamp: metav1.NewTime(p.Created),
				Labels:          map[string]string{"app": "edge", v1alpha1.StateLabel: string(p.State), kruisev1alpha1.CloneSetInstanceID: p.Name},
				Annotations:     map[string]string{v1alpha1.StateSinceAnnotation: p.Since.UTC().Format(time.RFC3339)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps.kruise.io/v1alpha1", Kind: "CloneSet", Name: "edge", UID: cs.UID, Controller: ptr.To(true)}},
			},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
		})
	}
	return b.WithObjects(objs...).WithStatusSubresource(&v1alpha1.ScalingPolicy{}).
		WithIndex(&v1alpha1.ScalingPolicy{}, controller.TargetIndex, controller.TargetOf).
		WithInterceptorFuncs(interceptor.Funcs{
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				if p, ok := obj.(*corev1.Pod); ok {
					rec.moves = append(rec.moves, podMove(p.Name, p.Labels[v1alpha1.StateLabel], p.Annotations[v1alpha1.EvictedStreamsAnnotation] != ""))
				}
				return c.Patch(ctx, obj, patch, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if cs, ok := obj.(*kruisev1alpha1.CloneSet); ok {
					rec.scales = append(rec.scales, scaleWrite(*cs.Spec.Replicas, cs.Spec.ScaleStrategy.PodsToDelete))
				}
				return c.Update(ctx, obj, opts...)
			},
		}).Build()
}

// writes are what the controller wrote in one pass, in order.
type writes struct{ moves, scales []string }

func podMove(pod, to string, evicted bool) string {
	if evicted {
		return pod + "->" + to + "(evicted)"
	}
	return pod + "->" + to
}

func scaleWrite(replicas int32, podsToDelete []string) string {
	return fmt.Sprintf("replicas=%d delete=[%s]", replicas, strings.Join(podsToDelete, " "))
}

func simMoves(ms []autoscaler.Move) []string {
	var out []string
	for _, m := range ms {
		out = append(out, podMove(m.Pod, string(m.Transition.To), m.Evict))
	}
	return out
}

// simWrites are the simulator's writes as the CloneSet would hold them: the simulator
// deletes named pods at once, so earlier names are never still listed.
func simWrites(ss []autoscaler.Scale) []string {
	var out []string
	for _, s := range ss {
		out = append(out, scaleWrite(s.Replicas, s.PodsToDelete))
	}
	return out
}

func valuesOf(s autoscaler.Snapshot) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, p := range s.Pods {
		out[p.Name] = p.Values
	}
	return out
}

// replaySource serves the simulator's samples and notes that it was asked; missing is
// returned as the source's account of why pods lack samples.
type replaySource struct {
	values  map[string]map[string]float64
	missing map[string][]v1alpha1.SampleProblem
	asked   bool
}

func (s *replaySource) Samples(_ context.Context, _ *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	s.asked = true
	out := map[string]map[string]float64{}
	for _, p := range pods {
		v, ok := s.values[p.Name]
		if !ok {
			return nil, nil, fmt.Errorf("pod %s is not in the simulator's fleet", p.Name)
		}
		out[p.Name] = map[string]float64{}
		for _, k := range keys {
			if x, ok := v[k]; ok && !math.IsNaN(x) {
				out[p.Name][k] = x
			}
		}
	}
	return out, s.missing, nil
}

type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// fakeScheme knows every kind the controller reads and writes, for fake clients.
func fakeScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, kruisev1alpha1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}
