package crdvalidation

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	kjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/deploy/crd"
)

// FuzzParseEvents feeds arbitrary text to v1alpha1.ParseEvents, the reader of a policy's
// events ConfigMap and of `simulate --events`: it must never panic, must name the source
// in every error, and whatever it accepts the API server must accept as
// prediction.events (checked with the generated CRD's schema and rules), so a schedule
// read from a ConfigMap is held to what a schedule written in the policy is.
func FuzzParseEvents(f *testing.F) {
	for _, seed := range []string{
		"start,duration,name,liftPercent\n1998-07-12T19:00:00Z,2h30m,Final,400\n",
		"name,start,duration\n# a comment\nSemi,1998-07-08T19:00:00Z,2h\n",
		"start,duration,name\n",
		"start,duration,name\n1998-07-12T19:00:00+02:00,24h,\"a, quoted name\"\n",
		"start,duration,name,liftPercent\n1998-07-12T19:00:00Z,1m,x,100000\n",
		"start,duration,name\n1998-07-12 19:00,2h,Final\n",
	} {
		f.Add(seed)
	}
	v, err := New(crd.ScalingPolicy, "v1alpha1")
	if err != nil {
		f.Fatal(err)
	}
	base, err := yaml.YAMLToJSON([]byte(good))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string) {
		evs, err := v1alpha1.ParseEvents(strings.NewReader(data), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the source", err)
			}
			return
		}
		if len(evs) > v1alpha1.MaxEvents {
			t.Fatalf("accepted %d events, more than %d", len(evs), v1alpha1.MaxEvents)
		}
		if len(evs) == 0 {
			return
		}
		var obj map[string]any // numbers as the API server reads them: int64 where whole
		if err := kjson.Unmarshal(base, &obj); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(evs)
		if err != nil {
			t.Fatal(err)
		}
		var events []any
		if err := kjson.Unmarshal(js, &events); err != nil {
			t.Fatal(err)
		}
		obj["spec"].(map[string]any)["prediction"] = map[string]any{"enabled": true, "events": events}
		if errs := v.Validate(context.Background(), obj); len(errs) > 0 {
			t.Fatalf("parsed %s as %s, which the API server refuses: %v", data, js, errs)
		}
	})
}
