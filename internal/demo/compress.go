package demo

import (
	"fmt"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// MaxSpeed is the fastest replay the demo accepts: the CRD's 1s floor on syncPeriod then
// stands for a minute of trace, four sync periods of the bundled policy.
const MaxSpeed = 60

// Compress returns the policy as the demo runs it at speed (trace seconds per real
// second): every period, window and timeout divided by speed, with the CRD's floors (1s
// sync period, 1s rate-policy period) where the division goes below them, and a note for
// each floor hit so the report can say what the trace-time policy really was.
// Prediction is turned off: the comparison is with the simulator's reactive run.
func Compress(spec *v1alpha1.ScalingPolicySpec, speed float64) (*v1alpha1.ScalingPolicySpec, []string, error) {
	if math.IsNaN(speed) || speed < 1 || speed > MaxSpeed {
		return nil, nil, fmt.Errorf("speed %v: must be between 1 and %d", speed, MaxSpeed)
	}
	out := spec.DeepCopy()
	var notes []string
	div := func(d time.Duration, floor time.Duration, what string) time.Duration {
		c := time.Duration(float64(d) / speed).Round(time.Millisecond)
		if c < floor {
			notes = append(notes, fmt.Sprintf("%s %s is %s at speed %g, below the %s floor: it runs as %s, %s of trace", what, d, c, speed, floor, floor, time.Duration(float64(floor)*speed)))
			c = floor
		}
		return c
	}
	out.SyncPeriod = &metav1.Duration{Duration: div(spec.Period(), time.Second, "syncPeriod")}
	if out.Tombstone == nil {
		out.Tombstone = &v1alpha1.TombstoneSpec{}
	}
	out.Tombstone.DrainTimeout = &metav1.Duration{Duration: div(spec.DrainTimeout(), 0, "drainTimeout")}
	if out.Behavior == nil {
		out.Behavior = &v1alpha1.Behavior{}
	}
	for _, d := range []v1alpha1.Direction{v1alpha1.Up, v1alpha1.Down} {
		r := spec.Rules(d)
		rules := &v1alpha1.ScalingRules{}
		if spec.Behavior != nil && d == v1alpha1.Up && spec.Behavior.ScaleUp != nil {
			rules = spec.Behavior.ScaleUp.DeepCopy()
		} else if spec.Behavior != nil && d == v1alpha1.Down && spec.Behavior.ScaleDown != nil {
			rules = spec.Behavior.ScaleDown.DeepCopy()
		}
		rules.SelectPolicy, rules.Policies = ptrTo(r.Select), nil
		w := int32(math.Ceil(r.Window.Seconds() / speed))
		rules.StabilizationWindowSeconds = &w
		for _, p := range r.Policies {
			period := int32(math.Round(float64(p.PeriodSeconds) / speed))
			if period < 1 {
				note := fmt.Sprintf("scale-%s policy period %ds is below 1s at speed %g: it runs as 1s, %gs of trace", d, p.PeriodSeconds, speed, speed)
				if len(notes) == 0 || notes[len(notes)-1] != note {
					notes = append(notes, note)
				}
				period = 1
			}
			p.PeriodSeconds = period
			rules.Policies = append(rules.Policies, p)
		}
		if d == v1alpha1.Up {
			out.Behavior.ScaleUp = rules
		} else {
			out.Behavior.ScaleDown = rules
		}
	}
	out.Prediction = nil
	return out, notes, nil
}

func ptrTo[T any](v T) *T { return &v }
