package democluster

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestPodStages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delay  time.Duration
		wantMS float64 // 0: no delay block
	}{
		{name: "a delay becomes the ready stage's durationMilliseconds", delay: 2500 * time.Millisecond, wantMS: 2500},
		{name: "no delay leaves the ready stage undelayed", delay: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := strings.Split(podStages(tc.delay), "\n---\n")
			if len(docs) != 2 {
				t.Fatalf("have %d YAML documents, want the ready and the delete stage", len(docs))
			}
			var stages []map[string]any
			for _, d := range docs {
				var s map[string]any
				if err := yaml.Unmarshal([]byte(d), &s); err != nil {
					t.Fatalf("parsing a stage: %v\n%s", err, d)
				}
				stages = append(stages, s)
			}
			ready, del := stages[0]["spec"].(map[string]any), stages[1]["spec"].(map[string]any)
			delay, hasDelay := ready["delay"].(map[string]any)
			switch {
			case tc.wantMS == 0 && hasDelay:
				t.Errorf("ready stage has delay %v, want none", delay)
			case tc.wantMS != 0 && (!hasDelay || delay["durationMilliseconds"] != tc.wantMS):
				t.Errorf("ready stage has delay %v, want durationMilliseconds %v", ready["delay"], tc.wantMS)
			}
			if _, ok := ready["next"].(map[string]any)["statusTemplate"].(string); !ok {
				t.Errorf("ready stage has no statusTemplate: %v", ready["next"])
			}
			if _, ok := del["delay"]; ok {
				t.Errorf("delete stage is delayed: %v", del["delay"])
			}
			if next := del["next"].(map[string]any); next["delete"] != true {
				t.Errorf("delete stage's next is %v, want delete: true", next)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	if err := checkLoopback(maxNodes); err != nil {
		t.Errorf("with %d nodes: %v", maxNodes, err)
	}
	// Node 245 would get InternalIP 127.0.0.255, node 246 an invalid one.
	if err := checkLoopback(247); err == nil {
		t.Error("with 247 nodes: no error, want one for node 246's address")
	}
}
