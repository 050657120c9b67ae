package autoscaler

import (
	"math"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// daily is a load with a daily cycle between 200 and 1800 streams.
func daily(t time.Time) float64 {
	return 1000 + 800*math.Sin(2*math.Pi*float64(t.Sub(t0))/float64(24*time.Hour))
}

func predictingSpec() *v1alpha1.ScalingPolicySpec {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, Horizon: &metav1.Duration{Duration: 10 * time.Minute},
		Season: &metav1.Duration{Duration: 24 * time.Hour}, History: &metav1.Duration{Duration: 72 * time.Hour}, MarginPercent: ptr(int32(0))}
	return s
}

func TestLoadForecasterLearnsADailyCycle(t *testing.T) {
	f, err := NewLoadForecaster(predictingSpec(), 5*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	for ; now.Before(t0.Add(3 * 24 * time.Hour)); now = now.Add(15 * time.Second) {
		f.Observe(now, map[string]float64{pull: daily(now), "bogus": math.NaN()})
	}
	got := f.Forecast()[pull]
	// The upper band's max over the next 10 minutes must cover the load then, and not by much.
	want := max(daily(now), daily(now.Add(10*time.Minute)))
	if got < want*0.97 || got > want*1.15 {
		t.Fatalf("forecast %v for a load of %v over the next 10 minutes", got, want)
	}
	st := f.Status(pull)
	if st.Model == "" || st.ErrorPercent < 0 || st.ErrorPercent > 5 {
		t.Fatalf("status %+v: a smooth cycle is forecast within 5%%", st)
	}
	if _, ok := f.Forecast()["bogus"]; ok {
		t.Fatal("a metric with only NaN readings has no forecast")
	}
}

func TestLoadForecasterNeedsHistoryFirst(t *testing.T) {
	f, _ := NewLoadForecaster(predictingSpec(), 5*time.Minute, time.Hour)
	f.Observe(t0, map[string]float64{pull: 10})
	if len(f.Forecast()) != 0 {
		t.Fatalf("one reading is no basis for a forecast: %v", f.Forecast())
	}
	if st := f.Status(pull); st.Model != "" || st.ErrorPercent != -1 {
		t.Fatalf("status %+v", st)
	}
}

func TestLoadForecasterSeededFromHistory(t *testing.T) {
	f, _ := NewLoadForecaster(predictingSpec(), 5*time.Minute, time.Hour)
	var values []float64
	end := t0.Add(72 * time.Hour)
	for at := t0; at.Before(end); at = at.Add(5 * time.Minute) {
		values = append(values, daily(at))
	}
	f.Seed(pull, end, values)
	if got := f.Forecast()[pull]; got < daily(end)*0.95 || got > daily(end)*1.2 {
		t.Fatalf("after a seed the forecast is %v, load about %v", got, daily(end))
	}
}

func TestNewLoadForecasterRejectsBadSteps(t *testing.T) {
	if _, err := NewLoadForecaster(predictingSpec(), 0, time.Hour); err == nil {
		t.Fatal("a zero step must be refused")
	}
	if _, err := NewLoadForecaster(predictingSpec(), time.Hour, time.Minute); err == nil {
		t.Fatal("refitting more often than a step must be refused")
	}
}
