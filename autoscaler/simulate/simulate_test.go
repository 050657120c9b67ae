package simulate

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

var t0 = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// edgeSpec scales on pull streams at 80 per pod (capacity 100), drains for drain.
func edgeSpec(drain time.Duration) *v1alpha1.ScalingPolicySpec {
	q := resource.MustParse("80")
	return &v1alpha1.ScalingPolicySpec{
		TargetRef: v1alpha1.TargetRef{Name: "edge"}, MinReplicas: ptr(int32(2)), MaxReplicas: 200,
		Metrics:   []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: &q}}},
		Behavior:  &v1alpha1.Behavior{ScaleDown: &v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr(int32(60))}},
		Tombstone: &v1alpha1.TombstoneSpec{DrainTimeout: &metav1.Duration{Duration: drain}},
	}
}

// evening is a show: a quiet start, a surge to the peak, a sharp drop, then a second,
// smaller rise while the pods released by the drop are still draining.
func evening(t *testing.T) Demand {
	t.Helper()
	var times []time.Time
	var values []float64
	knots := []struct {
		min   int
		value float64
	}{{0, 300}, {30, 300}, {40, 1500}, {70, 1500}, {80, 200}, {100, 200}, {110, 900}, {150, 900}, {180, 300}}
	for _, k := range knots {
		times = append(times, t0.Add(time.Duration(k.min)*time.Minute))
		values = append(values, k.value)
	}
	d, err := Resample(times, values, 5*time.Second, 1500)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func byPolicy(t *testing.T, rep *Report) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, r := range rep.Results {
		out[r.Policy] = r
	}
	for _, want := range []string{PolicyReactive, PolicyHPA, PolicyStaticPeak, PolicyOracle} {
		if _, ok := out[want]; !ok {
			t.Fatalf("no %s result in %+v", want, rep.Results)
		}
	}
	return out
}

func TestReactiveNeverCutsAStreamWhileHPADoes(t *testing.T) {
	rep, err := Run(evening(t), edgeSpec(30*time.Minute), Profile{SessionMeanSeconds: 600})
	if err != nil {
		t.Fatal(err)
	}
	r := byPolicy(t, rep)
	if r[PolicyReactive].LostStreams != 0 {
		t.Errorf("reactive lost %d streams; only deletable pods may go", r[PolicyReactive].LostStreams)
	}
	if r[PolicyReactive].TombstonedPods == 0 {
		t.Errorf("the drop after the surge should tombstone pods: %+v", r[PolicyReactive])
	}
	if r[PolicyReactive].RevivedPods == 0 {
		t.Errorf("the second rise should revive draining pods before creating new ones: %+v", r[PolicyReactive])
	}
	if re := r[PolicyReactive]; re.DrainingPodHours <= 0 || re.StartingPodHours <= 0 || re.DrainingPodHours+re.StartingPodHours >= re.PodHours {
		t.Errorf("reactive pays %.2f pod-hours, %.2f of them draining and %.2f starting: want both parts, and less than the whole", re.PodHours, re.DrainingPodHours, re.StartingPodHours)
	}
	if h := r[PolicyHPA]; h.DrainingPodHours != 0 || h.StartingPodHours <= 0 {
		t.Errorf("hpa drains nothing and starts pods: %.2f draining, %.2f starting pod-hours", h.DrainingPodHours, h.StartingPodHours)
	}
	if r[PolicyHPA].LostStreams == 0 {
		t.Errorf("hpa's scale-in after the surge deletes pods with streams; it reported none lost: %+v", r[PolicyHPA])
	}
	if r[PolicyOracle].OracleRatio != 1 || r[PolicyOracle].OverloadSeconds != 0 {
		t.Errorf("oracle: %+v", r[PolicyOracle])
	}
	if r[PolicyStaticPeak].PodHours < r[PolicyOracle].PodHours || r[PolicyStaticPeak].LostStreams != 0 || r[PolicyStaticPeak].ScaleEvents != 0 {
		t.Errorf("static-peak: %+v vs oracle %+v", r[PolicyStaticPeak], r[PolicyOracle])
	}
	for _, res := range rep.Results {
		if len(res.Series.Hours) == 0 || len(res.Series.Hours) != len(res.Series.Pods) {
			t.Errorf("%s: series not recorded: %d hours, %d pods", res.Policy, len(res.Series.Hours), len(res.Series.Pods))
		}
	}
}

func TestAShortDrainTimeoutEvictsInsteadOfWaiting(t *testing.T) {
	long, err := Run(evening(t), edgeSpec(6*time.Hour), Profile{})
	if err != nil {
		t.Fatal(err)
	}
	short, err := Run(evening(t), edgeSpec(2*time.Minute), Profile{})
	if err != nil {
		t.Fatal(err)
	}
	l, s := byPolicy(t, long)[PolicyReactive], byPolicy(t, short)[PolicyReactive]
	if s.EvictedStreams == 0 || s.EvictedStreams <= l.EvictedStreams {
		t.Errorf("a 2m drain timeout should evict more than a 6h one: %d vs %d", s.EvictedStreams, l.EvictedStreams)
	}
	if s.PodHours >= l.PodHours {
		t.Errorf("evicting early should free pods sooner: %.1f vs %.1f pod-hours", s.PodHours, l.PodHours)
	}
	// The whole difference is draining time: the pods serve and start alike.
	if s.DrainingPodHours <= 0 || s.DrainingPodHours >= l.DrainingPodHours {
		t.Errorf("draining pod-hours: 2m drain %.2f, 6h drain %.2f; want some, and fewer with the shorter drain", s.DrainingPodHours, l.DrainingPodHours)
	}
	if diff, drain := l.PodHours-s.PodHours, l.DrainingPodHours-s.DrainingPodHours; math.Abs(diff-drain) > 0.05*diff {
		t.Errorf("the longer drain costs %.2f more pod-hours, of which %.2f draining: want nearly all", diff, drain)
	}
	if s.LostStreams != 0 || l.LostStreams != 0 {
		t.Errorf("eviction is not loss: lost %d and %d", s.LostStreams, l.LostStreams)
	}
}

func TestRunIsDeterministic(t *testing.T) {
	a, err := Run(evening(t), edgeSpec(30*time.Minute), Profile{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(evening(t), edgeSpec(30*time.Minute), Profile{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) || !reflect.DeepEqual(a.Results[0].Series, b.Results[0].Series) {
		t.Fatalf("two runs with seed 7 differ:\n%s\n%s", ja, jb)
	}
	c, err := Run(evening(t), edgeSpec(30*time.Minute), Profile{Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if c.Streams == a.Streams && c.Results[0].PodHours == a.Results[0].PodHours {
		t.Fatalf("seeds 7 and 8 gave the same run")
	}
}

func TestWorkloadFollowsTheDemand(t *testing.T) {
	d := evening(t)
	p := Profile{SessionMeanSeconds: 300}.WithDefaults()
	w := arrivals(d, p)
	// Offered concurrency follows the target within 10% once a rise has had two minutes,
	// on the plateau at 1500 and on the later one at 900.
	for _, at := range []time.Duration{20 * time.Minute, 42 * time.Minute, 60 * time.Minute, 112 * time.Minute, 140 * time.Minute} {
		k := int(at / d.Step)
		if got, want := float64(w.offered[k]), d.Streams[k]; math.Abs(got-want)/want > 0.1 {
			t.Errorf("at %s: offered %v streams, target %v", at, got, want)
		}
	}
	for i := 1; i < len(w.streams); i++ {
		if w.streams[i].start < w.streams[i-1].start || w.streams[i].end <= w.streams[i].start {
			t.Fatalf("stream %d: %+v after %+v", i, w.streams[i], w.streams[i-1])
		}
	}
}

func TestResample(t *testing.T) {
	times := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	d, err := Resample(times, []float64{0, 10, 20}, 30*time.Second, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 25, 50, 75, 100}
	if !reflect.DeepEqual(d.Streams, want) {
		t.Fatalf("got %v, want %v", d.Streams, want)
	}
	bad := []struct {
		name   string
		times  []time.Time
		values []float64
		step   time.Duration
		msg    string
	}{
		{"one point", times[:1], []float64{1}, time.Second, "at least 2 points"},
		{"length mismatch", times, []float64{1, 2}, time.Second, "3 times but 2 values"},
		{"NaN", times, []float64{1, math.NaN(), 2}, time.Second, "not a finite non-negative"},
		{"negative", times, []float64{1, -1, 2}, time.Second, "not a finite non-negative"},
		{"all zero", times, []float64{0, 0, 0}, time.Second, "every value is zero"},
		{"time going back", []time.Time{t0, t0.Add(time.Minute), t0}, []float64{1, 2, 3}, time.Second, "does not follow"},
		{"zero step", times, []float64{1, 2, 3}, 0, "must be positive"},
		{"too many steps", []time.Time{t0, t0.Add(24 * 365 * 10 * time.Hour)}, []float64{1, 2}, time.Second, "more than 20000000"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resample(c.times, c.values, c.step, 100)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
		})
	}
}

func TestProfileValidation(t *testing.T) {
	cases := []struct {
		name string
		p    Profile
		msg  string
	}{
		{"defaults are valid", Profile{}, ""},
		{"capacity", Profile{PodCapacityStreams: -1}, "podCapacityStreams"},
		{"NaN peak", Profile{PeakStreams: math.NaN()}, "peakStreams"},
		{"huge peak", Profile{PeakStreams: 1e9}, "at most 5000000"},
		{"step", Profile{StepSeconds: 500}, "stepSeconds"},
		{"publish fraction", Profile{PublishFraction: ptr(1.5)}, "publishFraction"},
		{"hpa sync not a multiple of the step", Profile{StepSeconds: 7}, "hpaSyncSeconds"},
		{"negative idle cpu", Profile{CPUIdlePercent: ptr(-3.0)}, "cpuIdlePercent"},
		{"unknown dispatch", Profile{Dispatch: "random"}, `dispatch: "random": must be spread or packed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.WithDefaults().Validate()
			if c.msg == "" && err != nil || c.msg != "" && (err == nil || !strings.Contains(err.Error(), c.msg)) {
				t.Fatalf("error %v, want %q", err, c.msg)
			}
		})
	}
}

func TestParseProfile(t *testing.T) {
	p, err := ParseProfile([]byte("apiVersion: streamscaler.io/v1alpha1\nkind: SimulationProfile\nspec:\n  podCapacityStreams: 50\n  startupSeconds: 120\n"))
	if err != nil || p.PodCapacityStreams != 50 || p.StartupSeconds != 120 {
		t.Fatalf("got %+v, %v", p, err)
	}
	if _, err := ParseProfile([]byte("kind: SimulationProfile\nspec:\n  podCapacity: 50\n")); err == nil || !strings.Contains(err.Error(), "podCapacity") {
		t.Fatalf("a misspelt field must be an error naming it, got %v", err)
	}
	if _, err := ParseProfile([]byte("kind: Other\n")); err == nil {
		t.Fatal("a document of another kind must be an error")
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	d := evening(t)
	cases := []struct {
		name string
		spec func() *v1alpha1.ScalingPolicySpec
		p    Profile
		d    Demand
		msg  string
	}{
		{"sync period not a multiple of the step", func() *v1alpha1.ScalingPolicySpec {
			s := edgeSpec(time.Minute)
			s.SyncPeriod = &metav1.Duration{Duration: 12 * time.Second}
			return s
		}, Profile{}, d, "multiple"},
		{"step differs from the profile", func() *v1alpha1.ScalingPolicySpec { return edgeSpec(time.Minute) }, Profile{StepSeconds: 15}, d, "differs"},
		{"empty demand", func() *v1alpha1.ScalingPolicySpec { return edgeSpec(time.Minute) }, Profile{}, Demand{Start: t0, Step: 5 * time.Second}, "at least 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(c.d, c.spec(), c.p)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
		})
	}
}

func TestSessionsAreTheReplayedArrivals(t *testing.T) {
	d := Demand{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Step: 5 * time.Second, Streams: []float64{50, 60, 80, 80, 40}}
	p := Profile{SessionMeanSeconds: 60, Seed: 7}
	got, err := Sessions(d, p)
	if err != nil {
		t.Fatal(err)
	}
	w := arrivals(d, p.WithDefaults())
	if len(got) != len(w.streams) || len(got) < 50 {
		t.Fatalf("%d sessions, the replay has %d (want at least the 50 up at the start)", len(got), len(w.streams))
	}
	for i, s := range got {
		ws := w.streams[i]
		if s.Start != ws.start || s.End != ws.end || s.BitrateBps != ws.bitrate || s.Publish != ws.push || s.End <= s.Start {
			t.Fatalf("session %d is %+v, the replay's %+v", i, s, ws)
		}
	}
	if _, err := Sessions(Demand{Step: time.Second}, p); err == nil {
		t.Fatal("an empty demand gave sessions")
	}
}
