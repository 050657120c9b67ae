package srs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

var allKeys = []string{"bandwidth", "packetsPerSecond", "pushStreams", "pullStreams", "cpu", "memory", "custom/viewers"}

// goodSamples are the recorded responses read by hand: summaries self.cpu_percent
// 0.44 and mem_percent 0.02; streams kbps 2560+7680, 1536+1536 and 0+12; clients
// with publish true twice and false five times. packetsPerSecond and custom/* are
// absent: SRS does not report them.
var goodSamples = map[string]float64{
	"bandwidth":   (2560 + 7680 + 1536 + 1536 + 0 + 12) * 1000,
	"pushStreams": 2,
	"pullStreams": 5,
	"cpu":         44,
	"memory":      2,
}

var now = time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)

// logs collects what the source logs at V(1) and below.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) context(ctx context.Context) context.Context {
	return logr.NewContext(ctx, funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{Verbosity: 1}))
}

func (l *logs) about(pod string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, `"name"="`+pod+`"`) {
			return line
		}
	}
	return ""
}

func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSamplesOfARecordedServer(t *testing.T) {
	fake := newFakeSRS(t)
	srv := fake.serve(t)
	s := newSource(t, Config{Address: addresses(map[string]string{"edge-0": srv.Listener.Addr().String()}, nil)})

	got, _, err := s.Samples(context.Background(), nil, []*corev1.Pod{pod("edge-0", "10.0.0.1")}, allKeys)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string]float64{"edge-0": goodSamples}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	wantGets := []string{"/api/v1/summaries", "/api/v1/streams/?start=0&count=1000", "/api/v1/clients/?start=0&count=1000"}
	if g := fake.gets(); !reflect.DeepEqual(g, wantGets) {
		t.Fatalf("requests %v, want %v", g, wantGets)
	}
}

func TestSamplesKeepTheGoodPodsWhenOthersFail(t *testing.T) {
	const maxBody = 64 << 10
	summaries := string(recorded(t, "summaries.json"))
	streams := string(recorded(t, "streams.json"))
	answering := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(body)) }
	}
	cases := []struct {
		name    string
		handler http.Handler // nil: the pod has no IP
		reason  string       // what the V(1) log line says
		want    error
	}{
		{"a pod slower than the timeout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}), "context deadline exceeded", context.DeadlineExceeded},
		{"a pod answering garbage", answering("<html><body>upstream connect error</body></html>"), "bad SRS response", ErrBadResponse},
		{"a pod answering a huge body", answering(`{"code":0,"pad":"` + strings.Repeat("x", maxBody) + `"}`), "response body too large", ErrBodyTooLarge},
		{"a pod answering code 100", answering(string(recorded(t, "errors.json"))), "SRS error code 100", ErrCode},
		{"a pod answering HTTP 503", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}), "answered 503", ErrStatus},
		{"a pod reporting a negative cpu", answering(strings.Replace(summaries, `"cpu_percent": 0.44`, `"cpu_percent": -0.44`, 1)), "data.self.cpu_percent is -0.44", ErrBadResponse},
		{"a pod whose summaries are fine but whose streams are not", func() http.Handler {
			f := newFakeSRS(t)
			f.streams = splitList(t, []byte(strings.Replace(streams, `"send_30s": 12`, `"send_30s": -12`, 1)), "streams")
			return f
		}(), "kbps.send_30s is -12", ErrBadResponse},
		{"a pod without an IP", nil, "pod has no IP", ErrNoPodIP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := newFakeSRS(t).serve(t)
			byPod := map[string]string{"good": good.Listener.Addr().String()}
			bad := pod("bad", "")
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				byPod["bad"] = srv.Listener.Addr().String()
			}
			s := newSource(t, Config{Timeout: 300 * time.Millisecond, MaxBody: maxBody, Address: addresses(byPod, nil)})
			var l logs

			got, missing, err := s.Samples(l.context(context.Background()), nil, []*corev1.Pod{pod("good", "10.0.0.1"), bad}, allKeys)
			if err != nil {
				t.Fatalf("one good pod is enough, got %v", err)
			}
			want := map[string]map[string]float64{"good": goodSamples, "bad": {}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			unreadable := map[string][]v1alpha1.SampleProblem{"bad": {v1alpha1.SampleUnreadable}}
			if !reflect.DeepEqual(missing, unreadable) {
				t.Fatalf("missing %v, want %v", missing, unreadable)
			}
			if line := l.about("bad"); !strings.Contains(line, tc.reason) || !strings.Contains(line, "reading SRS API of pod bad") {
				t.Fatalf("log line %q does not give the reason %q", line, tc.reason)
			}
			if l.about("good") != "" {
				t.Fatal("the good pod was logged as failing")
			}

			// The same pod alone: every pod failed, so Samples fails with its error.
			got, missing, err = s.Samples(context.Background(), nil, []*corev1.Pod{bad}, allKeys)
			if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "reading SRS API of pod bad: ") {
				t.Fatalf("alone: got %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(missing, unreadable) {
				t.Fatalf("alone: missing %v, want %v alongside the error", missing, unreadable)
			}
			if !reflect.DeepEqual(got, map[string]map[string]float64{"bad": {}}) {
				t.Fatalf("alone: got %v", got)
			}
		})
	}
}

func TestOneSlowPodCannotStallTheDecision(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	byPod := map[string]string{"slow-0": slow.Listener.Addr().String(), "slow-1": slow.Listener.Addr().String()}
	pods := []*corev1.Pod{pod("slow-0", ""), pod("slow-1", "")}
	for _, name := range []string{"good-0", "good-1", "good-2", "good-3"} {
		byPod[name] = newFakeSRS(t).serve(t).Listener.Addr().String()
		pods = append(pods, pod(name, "10.0.0.1"))
	}
	// Two pods at a time: the slow ones hold their slots for the whole timeout, and the
	// good ones still get through.
	s := newSource(t, Config{Timeout: 200 * time.Millisecond, Concurrency: 2, Address: addresses(byPod, nil)})

	start := time.Now()
	got, _, err := s.Samples(context.Background(), nil, pods, allKeys)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("Samples took %v with a 200ms timeout per pod", elapsed)
	}
	for _, p := range pods {
		want := goodSamples
		if strings.HasPrefix(p.Name, "slow") {
			want = map[string]float64{}
		}
		if !reflect.DeepEqual(got[p.Name], want) {
			t.Errorf("%s: got %v, want %v", p.Name, got[p.Name], want)
		}
	}
}

func TestSamplesReadOnlyWhatIsAsked(t *testing.T) {
	cases := []struct {
		name string
		keys []string
		gets []string
		want map[string]float64
	}{
		{"cpu and memory come from the summaries alone", []string{"cpu", "memory"}, []string{"/api/v1/summaries"}, map[string]float64{"cpu": 44, "memory": 2}},
		{"bandwidth from the streams alone", []string{"bandwidth"}, []string{"/api/v1/streams/?start=0&count=1000"}, map[string]float64{"bandwidth": 13324000}},
		{"players from the clients alone", []string{"pullStreams"}, []string{"/api/v1/clients/?start=0&count=1000"}, map[string]float64{"pullStreams": 5}},
		{"nothing SRS reports: no request at all", []string{"packetsPerSecond", "custom/viewers"}, nil, map[string]float64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeSRS(t)
			srv := fake.serve(t)
			s := newSource(t, Config{Address: addresses(map[string]string{"p": srv.Listener.Addr().String()}, nil)})
			got, _, err := s.Samples(context.Background(), nil, []*corev1.Pod{pod("p", "10.0.0.1")}, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["p"], tc.want) {
				t.Fatalf("got %v, want %v", got["p"], tc.want)
			}
			if g := fake.gets(); !reflect.DeepEqual(g, tc.gets) {
				t.Fatalf("requests %v, want %v", g, tc.gets)
			}
		})
	}
}

func TestSamplesBeforeSRSHasSampledItself(t *testing.T) {
	fake := newFakeSRS(t)
	fake.summaries = []byte(strings.Replace(string(fake.summaries), `"ok": true`, `"ok": false`, 1))
	srv := fake.serve(t)
	s := newSource(t, Config{Address: addresses(map[string]string{"p": srv.Listener.Addr().String()}, nil)})
	got, _, err := s.Samples(context.Background(), nil, []*corev1.Pod{pod("p", "10.0.0.1")}, allKeys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"bandwidth": 13324000, "pushStreams": 2, "pullStreams": 5}
	if !reflect.DeepEqual(got["p"], want) {
		t.Fatalf("cpu and memory read as zero until sampled must be missing: got %v", got["p"])
	}
}

func TestSamplesUseThePolicysPort(t *testing.T) {
	withPort := func(p int32) *v1alpha1.ScalingPolicy {
		return &v1alpha1.ScalingPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "live"},
			Spec:       v1alpha1.ScalingPolicySpec{MetricsSource: &v1alpha1.MetricsSourceSpec{Type: v1alpha1.SourceSRS, SRS: &v1alpha1.SRSSource{Port: p}}},
		}
	}
	cases := []struct {
		name   string
		cfg    int
		policy *v1alpha1.ScalingPolicy
		want   int
	}{
		{"the default", 0, nil, 1985},
		{"the controller's setting", 1986, withPort(0), 1986},
		{"the policy's setting wins", 1986, withPort(2000), 2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ports []int
			s := newSource(t, Config{Port: tc.cfg, Address: addresses(nil, &ports)})
			s.Samples(context.Background(), tc.policy, []*corev1.Pod{pod("p", "")}, []string{"cpu"})
			if !reflect.DeepEqual(ports, []int{tc.want}) {
				t.Fatalf("ports %v, want [%d]", ports, tc.want)
			}
		})
	}
}

func TestSamplesPageThroughTheLists(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*fakeSRS)
		gets  []string
	}{
		{"SRS 7 develop (from its source) reports the total: three pages of three", func(*fakeSRS) {}, []string{
			"/api/v1/clients/?start=0&count=3", "/api/v1/clients/?start=3&count=3", "/api/v1/clients/?start=6&count=3",
		}},
		{"SRS 4-6 and the recorded 7.0.18 raise the count to 10 and report no total", func(f *fakeSRS) { f.v6 = true }, []string{
			"/api/v1/clients/?start=0&count=3", "/api/v1/clients/?start=7&count=3",
		}},
		{"an SRS that ignores paging is read once and its repeat spotted", func(f *fakeSRS) { f.v6, f.ignorePaging = true, true }, []string{
			"/api/v1/clients/?start=0&count=3", "/api/v1/clients/?start=7&count=3",
		}},
		{"a client seen twice while the list shifts counts once", func(f *fakeSRS) {
			// A client that joins with a smaller id pushes the rest one place down
			// between the first and the second page.
			e := f.clients.entries
			f.clients.entries = append(append(append([]json.RawMessage{}, e[:3]...), e[2]), e[3:]...)
		}, []string{
			"/api/v1/clients/?start=0&count=3", "/api/v1/clients/?start=3&count=3", "/api/v1/clients/?start=6&count=3",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeSRS(t)
			tc.setup(fake)
			srv := fake.serve(t)
			s := newSource(t, Config{Address: addresses(map[string]string{"p": srv.Listener.Addr().String()}, nil)})
			s.pageSize = 3
			got, _, err := s.Samples(context.Background(), nil, []*corev1.Pod{pod("p", "10.0.0.1")}, []string{"pushStreams", "pullStreams"})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]float64{"pushStreams": 2, "pullStreams": 5}; !reflect.DeepEqual(got["p"], want) {
				t.Fatalf("got %v, want %v", got["p"], want)
			}
			if g := fake.gets(); !reflect.DeepEqual(g, tc.gets) {
				t.Fatalf("requests %v\nwant %v", g, tc.gets)
			}
		})
	}
}

func TestSamplesHonourConfiguredCeilings(t *testing.T) {
	srv := newFakeSRS(t).serve(t)
	ceilings, err := samples.ParseCeilings("pullStreams=4,bandwidth=1e8")
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(t, Config{Address: addresses(map[string]string{"p": srv.Listener.Addr().String()}, nil), Ceilings: ceilings})
	got, missing, err := s.Samples(context.Background(), nil, []*corev1.Pod{pod("p", "10.0.0.1")}, allKeys)
	if err != nil {
		t.Fatal(err)
	}
	// 5 players are above 4; 13.3 Mbit/s is within 100 Mbit/s.
	if want := map[string]float64{"bandwidth": 13324000, "pushStreams": 2, "cpu": 44, "memory": 2}; !reflect.DeepEqual(got["p"], want) {
		t.Fatalf("got %v, want %v", got["p"], want)
	}
	if want := map[string][]v1alpha1.SampleProblem{"p": {v1alpha1.SampleImplausible}}; !reflect.DeepEqual(missing, want) {
		t.Fatalf("missing %v, want %v", missing, want)
	}
}

func TestNewRejectsNonsense(t *testing.T) {
	for _, cfg := range []Config{{Port: 70000}, {Timeout: -time.Second}, {Concurrency: -1}, {MaxBody: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
