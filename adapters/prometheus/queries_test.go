package prometheus

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func TestDefaultQueriesCoverEveryBuiltInMetric(t *testing.T) {
	vars := templateVars{namespace: "live", pods: []string{"srs-edge-0"}, podLabel: "pod", window: time.Minute}.replacer()
	defaults := DefaultQueries()
	for _, typ := range v1alpha1.MetricTypes() {
		if typ == v1alpha1.MetricCustom {
			continue
		}
		q, ok := defaults[string(typ)]
		if !ok {
			t.Errorf("no default query for %s", typ)
			continue
		}
		rendered := vars.Replace(q)
		if strings.Contains(rendered, "$") {
			t.Errorf("%s: a placeholder is left: %s", typ, rendered)
		}
		if !strings.Contains(rendered, `namespace="live",pod=~"srs-edge-0"`) {
			t.Errorf("%s: every selector must hold the namespace and the pods: %s", typ, rendered)
		}
	}
	defaults["cpu"] = "changed"
	if DefaultQueries()["cpu"] == "changed" {
		t.Error("DefaultQueries hands out the package's own map")
	}
}

func TestPodsRegexMatchesExactlyTheAskedPods(t *testing.T) {
	asked := []string{"srs-edge.a", "srs-edge-1", "(x)+"}
	// The regex as Prometheus sees it: unquoted from the PromQL string, anchored.
	text, err := strconv.Unquote(`"` + promQLEscape(podsRegex(asked)) + `"`)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("^(?:" + text + ")$")
	for _, p := range asked {
		if !re.MatchString(p) {
			t.Errorf("%q does not match its own pod", p)
		}
	}
	for _, p := range []string{"srs-edgeXa", "srs-edge-10", "srs-edge-1|x", "xxx", "", "(x)+(x)+"} {
		if re.MatchString(p) {
			t.Errorf("%q matches, but was not asked for", p)
		}
	}
}

func TestPromQLEscapeKeepsTheStringClosed(t *testing.T) {
	for _, s := range []string{`live`, `a"b`, `a\b`, "a\nb", `"} or vector(1) or {x="`} {
		got, err := strconv.Unquote(`"` + promQLEscape(s) + `"`)
		if err != nil || got != s {
			t.Errorf("%q: round trip gave %q, %v", s, got, err)
		}
	}
}
