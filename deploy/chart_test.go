package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

const (
	chartDir = "chart/streamscaler"
	// kustomizeNamespace is the namespace deploy/ installs into; the chart is rendered
	// into it to compare the two.
	kustomizeNamespace = "streamscaler-system"
	releaseName        = "streamscaler"
)

// Objects the externalMetrics and removalGuard values turn on and off, by objectKey.
var (
	externalMetricsObjects = []string{
		"Service/streamscaler-system/streamscaler-external-metrics",
		"APIService//v1beta1.external.metrics.k8s.io",
		"ClusterRoleBinding//streamscaler:system:auth-delegator",
		"RoleBinding/kube-system/streamscaler-auth-reader",
		"ClusterRole//streamscaler-external-metrics-reader",
		"ClusterRoleBinding//streamscaler-external-metrics-reader-hpa",
	}
	removalGuardObjects = []string{
		"Secret/streamscaler-system/streamscaler-webhook-cert",
		"Service/streamscaler-system/streamscaler-webhook",
		"ValidatingWebhookConfiguration//streamscaler-pod-removals",
	}
)

// optionalValues turns every toggle the other way from the defaults and sets every
// pass-through value, so that one render covers what the defaults leave out.
var optionalValues = map[string]any{
	"image":             map[string]any{"tag": "v9.9.9", "pullPolicy": "Always"},
	"replicaCount":      3,
	"externalMetrics":   map[string]any{"enabled": false},
	"removalGuard":      map[string]any{"enabled": false},
	"serviceMonitor":    map[string]any{"enabled": true, "interval": "30s", "labels": map[string]any{"release": "kube-prometheus-stack"}},
	"grafanaDashboards": map[string]any{"enabled": true, "annotations": map[string]any{"grafana_folder": "streamscaler"}},
	"extraArgs":         []any{"--v=2", "--max-concurrent-reconciles=8"},
	"podAnnotations":    map[string]any{"example.com/team": "video"},
	"nodeSelector":      map[string]any{"kubernetes.io/os": "linux"},
	"tolerations":       []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "control", "effect": "NoSchedule"}},
	"affinity": map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
		"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/arch", "operator": "In", "values": []any{"amd64"}}}}},
	}}},
}

// TestChart checks the Helm chart in chart/streamscaler: it lints, its copies of
// generated files are current, its values turn what they say on and off, it renders the
// same objects as kustomization.yaml, and everything it renders is accepted by a real
// kube-apiserver (server-side apply, dry run).
func TestChart(t *testing.T) {
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	defaults := renderChart(t, ch, nil, kustomizeNamespace)
	optional := renderChart(t, ch, optionalValues, kustomizeNamespace)

	t.Run("lints without errors or warnings", func(t *testing.T) {
		for _, vals := range []map[string]any{nil, optionalValues} {
			result := lint.RunAll(chartDir, vals, kustomizeNamespace)
			for _, m := range result.Messages {
				if m.Severity >= support.WarningSev {
					t.Error(m.Error())
				} else {
					t.Log(m.Error())
				}
			}
		}
	})

	t.Run("copies of the CRD and dashboards are byte-identical to deploy", func(t *testing.T) {
		// `make generate` refreshes crds/; the dashboards are copied by hand.
		sameFiles(t, "crd/*.yaml", filepath.Join(chartDir, "crds/*.yaml"), "run make generate")
		sameFiles(t, "grafana/*.json", filepath.Join(chartDir, "dashboards/*.json"), "copy it again")
		if n := len(ch.CRDObjects()); n != 1 {
			t.Errorf("Helm sees %d CRDs in crds/, want 1", n)
		}
	})

	t.Run("agrees with the kustomization", func(t *testing.T) {
		kust := kustomizeObjects(t)
		compareInstalls(t, kust, defaults.objects)
	})

	t.Run("values turn objects on and off", func(t *testing.T) {
		def, opt := keys(defaults.objects), keys(optional.objects)
		for _, k := range slices.Concat(externalMetricsObjects, removalGuardObjects) {
			if !def[k] {
				t.Errorf("defaults: %s is missing", k)
			}
			if opt[k] {
				t.Errorf("externalMetrics and removalGuard off: %s is still rendered", k)
			}
		}
		// Everything else is rendered either way, and only the ServiceMonitor and the
		// dashboards' ConfigMaps are added.
		for k := range def {
			if !opt[k] && !slices.Contains(externalMetricsObjects, k) && !slices.Contains(removalGuardObjects, k) {
				t.Errorf("%s disappears with the optional values", k)
			}
		}
		dashboards, _ := filepath.Glob("grafana/*.json")
		added := 0
		for k := range opt {
			if def[k] {
				continue
			}
			switch kind := strings.SplitN(k, "/", 2)[0]; kind {
			case "ServiceMonitor", "ConfigMap":
				added++
			default:
				t.Errorf("%s appears with the optional values", k)
			}
		}
		if want := 1 + len(dashboards); added != want {
			t.Errorf("the optional values add %d objects, want a ServiceMonitor and %d dashboards", added, len(dashboards))
		}
		if kinds := kindsOf(defaults.objects); kinds["ServiceMonitor"]+kinds["ConfigMap"] != 0 {
			t.Errorf("the defaults render a ServiceMonitor or ConfigMap: %v", kinds)
		}
	})

	t.Run("the deployment follows the values", func(t *testing.T) {
		spec := podSpec(t, optional.objects, kustomizeNamespace)
		c := firstContainer(t, spec)
		args := stringsAt(c, "args")
		for _, want := range []string{"--external-metrics-port=0", "--v=2", "--max-concurrent-reconciles=8"} {
			if !slices.Contains(args, want) {
				t.Errorf("args %q lack %s", args, want)
			}
		}
		for _, a := range args {
			if strings.HasPrefix(a, "--webhook-") || strings.HasPrefix(a, "--external-metrics-cert-dir") {
				t.Errorf("arg %s with the removal guard and external metrics off", a)
			}
		}
		checkVolumes(t, spec)
		for _, v := range sliceAt(spec, "volumes") {
			t.Errorf("volume %v with the removal guard and external metrics off", v)
		}
		for _, p := range sliceAt(c, "ports") {
			if name := p.(map[string]any)["name"]; name == "https-ext" || name == "webhook" {
				t.Errorf("port %v with its server off", name)
			}
		}
		for path, want := range map[string]any{
			"image":           "ghcr.io/streamscaler/streamscaler:v9.9.9",
			"imagePullPolicy": "Always",
		} {
			if got := c[path]; got != want {
				t.Errorf("container %s = %v, want %v", path, got, want)
			}
		}
		dep := find(t, optional.objects, "Deployment/"+kustomizeNamespace+"/streamscaler")
		checks := map[string][2]any{
			"spec.replicas": {nested(dep.Object, "spec", "replicas"), float64(3)},
			"podAnnotations": {nested(dep.Object, "spec", "template", "metadata", "annotations"),
				optionalValues["podAnnotations"]},
			"nodeSelector": {spec["nodeSelector"], optionalValues["nodeSelector"]},
			"tolerations":  {spec["tolerations"], optionalValues["tolerations"]},
			"affinity":     {spec["affinity"], optionalValues["affinity"]},
		}
		for name, pair := range checks {
			if d := diffValues(name, jsonRoundTrip(t, pair[1]), pair[0]); len(d) > 0 {
				t.Errorf("%s", strings.Join(d, "\n"))
			}
		}
		// The defaults serve both and mount both certificate folders.
		checkVolumes(t, podSpec(t, defaults.objects, kustomizeNamespace))
	})

	t.Run("the release namespace replaces streamscaler-system everywhere", func(t *testing.T) {
		const ns = "live-ops"
		other := renderChart(t, ch, nil, ns)
		for name, text := range other.files {
			if strings.Contains(text, kustomizeNamespace) {
				t.Errorf("%s names %s when installed in %s", name, kustomizeNamespace, ns)
			}
		}
		args := stringsAt(firstContainer(t, podSpec(t, other.objects, ns)), "args")
		for _, want := range []string{
			"--webhook-cert-secret=" + ns + "/streamscaler-webhook-cert",
			"--webhook-dns-name=streamscaler-webhook." + ns + ".svc",
		} {
			if !slices.Contains(args, want) {
				t.Errorf("args %q lack %s", args, want)
			}
		}
		// Every namespaced object but the one reader binding in kube-system is in ns.
		for _, u := range other.objects {
			if ref := u.GetNamespace(); ref != "" && ref != ns && ref != "kube-system" {
				t.Errorf("%s is in %s", objectKey(u), ref)
			}
		}
	})

	t.Run("the ServiceMonitor scrapes the metrics Service", func(t *testing.T) {
		sm := find(t, optional.objects, "ServiceMonitor/"+kustomizeNamespace+"/streamscaler")
		selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		if len(selector) == 0 {
			t.Fatal("the ServiceMonitor selects every Service")
		}
		// Among all the Services the chart renders, it selects the metrics Service only.
		var selected []*unstructured.Unstructured
		for _, u := range defaults.objects {
			if u.GetKind() == "Service" && isSubset(selector, u.GetLabels()) {
				selected = append(selected, u)
			}
		}
		if len(selected) != 1 || selected[0].GetName() != "streamscaler-metrics" {
			t.Fatalf("the ServiceMonitor's selector %v selects %d Services, want streamscaler-metrics only", selector, len(selected))
		}
		svcPorts := map[any]bool{}
		for _, p := range sliceAt(selected[0].Object, "spec", "ports") {
			svcPorts[p.(map[string]any)["name"]] = true
		}
		endpoints := sliceAt(sm.Object, "spec", "endpoints")
		if len(endpoints) == 0 {
			t.Error("the ServiceMonitor has no endpoints")
		}
		for _, e := range endpoints {
			if port := e.(map[string]any)["port"]; !svcPorts[port] {
				t.Errorf("the ServiceMonitor scrapes port %v, which streamscaler-metrics lacks (it has %v)", port, svcPorts)
			}
		}
		if ns, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "namespaceSelector", "matchNames"); !slices.Equal(ns, []string{kustomizeNamespace}) {
			t.Errorf("the ServiceMonitor looks in namespaces %v", ns)
		}
		if sm.GetLabels()["release"] != "kube-prometheus-stack" {
			t.Errorf("serviceMonitor.labels are not on the ServiceMonitor: %v", sm.GetLabels())
		}
	})

	t.Run("the dashboards' ConfigMaps hold deploy/grafana as it is", func(t *testing.T) {
		files, _ := filepath.Glob("grafana/*.json")
		for _, f := range files {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Base(f)
			cm := find(t, optional.objects, "ConfigMap/"+kustomizeNamespace+"/streamscaler-dashboard-"+strings.TrimSuffix(base, ".json"))
			if got := cm.GetLabels()["grafana_dashboard"]; got != "1" {
				t.Errorf("%s: label grafana_dashboard=%q, want \"1\"", cm.GetName(), got)
			}
			if got, _, _ := unstructured.NestedString(cm.Object, "data", base); got != string(want) {
				t.Errorf("%s: data[%s] differs from %s (%d bytes, want %d)", cm.GetName(), base, f, len(got), len(want))
			}
		}
	})

	t.Run("the schema refuses values of the wrong type", func(t *testing.T) {
		for name, vals := range map[string]map[string]any{
			"replicaCount as a string":      {"replicaCount": "two"},
			"an unknown metrics source":     {"metricsSource": "carrier-pigeon"},
			"extraArgs as one string":       {"extraArgs": "--v=2"},
			"prometheus without an address": {"prometheus": map[string]any{"address": ""}},
			"a misspelt toggle":             {"removalGuard": map[string]any{"enable": false}},
			"a toggle as a string":          {"serviceMonitor": map[string]any{"enabled": "yes"}},
		} {
			if _, err := chartutil.ToRenderValues(ch, vals, releaseOptions(kustomizeNamespace), nil); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})

	t.Run("applies to a real API server", func(t *testing.T) {
		c := testcluster.ForTest(t)
		ctx := context.Background()
		const otherNS = "live-ops"
		for _, ns := range []string{kustomizeNamespace, otherNS} {
			if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
				t.Fatal(err)
			}
		}
		apply := func(what string, u *unstructured.Unstructured) bool {
			err := c.Client.Patch(ctx, u, client.Apply, client.FieldOwner("chart-test"), client.ForceOwnership, client.DryRunAll)
			if err != nil {
				t.Errorf("%s: %s: %v", what, objectKey(u), err)
			}
			return err == nil
		}
		for _, crd := range ch.CRDObjects() {
			for _, u := range parseObjects(t, crd.Name, crd.File.Data) {
				apply("crds/", u)
			}
		}
		kinds := map[string]int{}
		renders := map[string][]*unstructured.Unstructured{
			"defaults":                      defaults.objects,
			"optional values":               optional.objects,
			"defaults in another namespace": renderChart(t, ch, nil, otherNS).objects,
		}
		for what, objects := range renders {
			for _, u := range objects {
				// The test server has no Prometheus Operator CRDs; the ServiceMonitor
				// is checked field by field above.
				if u.GetKind() == "ServiceMonitor" {
					continue
				}
				if apply(what, u) {
					kinds[u.GetKind()]++
				}
			}
		}
		for _, want := range []string{"ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "Deployment", "Service", "APIService", "Secret", "ValidatingWebhookConfiguration", "ConfigMap"} {
			if kinds[want] == 0 {
				t.Errorf("no %s was applied; applied %v", want, kinds)
			}
		}
	})
}

// rendered is one render of the chart.
type rendered struct {
	objects []*unstructured.Unstructured
	files   map[string]string // by template name, NOTES.txt included
}

func releaseOptions(ns string) common.ReleaseOptions {
	return common.ReleaseOptions{Name: releaseName, Namespace: ns, Revision: 1, IsInstall: true}
}

// renderChart renders ch as `helm install` would, with vals over values.yaml, in
// Strict mode: a template that reads a value values.yaml lacks fails.
func renderChart(t *testing.T, ch *chart.Chart, vals map[string]any, ns string) rendered {
	t.Helper()
	top, err := chartutil.ToRenderValues(ch, vals, releaseOptions(ns), nil)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Engine{Strict: true}.RenderWithContext(context.Background(), ch, top)
	if err != nil {
		t.Fatalf("rendering the chart in %s with %v: %v", ns, vals, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out rendered
	out.files = files
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			if strings.TrimSpace(files[name]) == "" {
				t.Errorf("%s is empty", name)
			}
			continue
		}
		out.objects = append(out.objects, parseObjects(t, name, []byte(files[name]))...)
	}
	return out
}

// kustomizeObjects reads every object kustomization.yaml lists.
func kustomizeObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var kust struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, f := range kust.Resources {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("kustomization lists %s: %v", f, err)
		}
		out = append(out, parseObjects(t, f, data)...)
	}
	if len(out) < 15 {
		t.Fatalf("the kustomization has %d objects; expected the whole install", len(out))
	}
	return out
}

func parseObjects(t *testing.T, name string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	docs, err := policyfile.Split(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []*unstructured.Unstructured
	for i, doc := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("%s document %d: %v", name, i+1, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// compareInstalls checks that the chart, rendered with its defaults into deploy/'s
// namespace, makes the same objects as the kustomization, less the Namespace (helm
// install --create-namespace) and the CRD (crds/, compared byte for byte). Objects are
// compared field by field: ClusterRole and Role rules, the Deployment's pod template
// (args, env, probes, security contexts, volumes, resources), Services' selectors and
// ports, the APIService and the webhooks. What the chart may add is normalized first,
// in one place: Helm's labels, the container's imagePullPolicy (image.pullPolicy,
// which deploy/ leaves to the server's default for a tagged image).
func compareInstalls(t *testing.T, kust, helm []*unstructured.Unstructured) {
	t.Helper()
	byKey := map[string]*unstructured.Unstructured{}
	for _, u := range helm {
		if u.GetKind() == "Namespace" || u.GetKind() == "CustomResourceDefinition" {
			t.Errorf("the chart renders %s: namespaces come from --create-namespace, CRDs from crds/", objectKey(u))
		}
		byKey[objectKey(u)] = u
	}
	seen := map[string]bool{}
	for _, want := range kust {
		if want.GetKind() == "Namespace" || want.GetKind() == "CustomResourceDefinition" {
			continue
		}
		k := objectKey(want)
		seen[k] = true
		got, ok := byKey[k]
		if !ok {
			t.Errorf("the chart does not render %s", k)
			continue
		}
		w, g := want.DeepCopy(), got.DeepCopy()
		for _, field := range []string{"labels", "annotations"} {
			wm, _, _ := unstructured.NestedStringMap(w.Object, "metadata", field)
			gm, _, _ := unstructured.NestedStringMap(g.Object, "metadata", field)
			if !isSubset(wm, gm) {
				t.Errorf("%s: metadata.%s %v lack deploy/'s %v", k, field, gm, wm)
			}
			unstructured.RemoveNestedField(w.Object, "metadata", field)
			unstructured.RemoveNestedField(g.Object, "metadata", field)
		}
		if k == "Deployment/"+kustomizeNamespace+"/streamscaler" {
			normalizeChartDeployment(t, g)
		}
		for _, d := range diffValues("", w.Object, g.Object) {
			t.Errorf("%s: the chart differs from deploy/ at %s", k, d)
		}
	}
	for k := range byKey {
		if !seen[k] {
			t.Errorf("the chart renders %s, which the kustomization does not", k)
		}
	}
}

// normalizeChartDeployment takes out of the chart's Deployment what it may add to
// deploy/'s (compareInstalls says why), checking each first.
func normalizeChartDeployment(t *testing.T, dep *unstructured.Unstructured) {
	t.Helper()
	containers := sliceAt(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) == 0 {
		t.Fatal("the chart's Deployment has no containers")
	}
	c := containers[0].(map[string]any)
	if c["imagePullPolicy"] != "IfNotPresent" {
		t.Errorf("imagePullPolicy %v, want the values' IfNotPresent", c["imagePullPolicy"])
	}
	delete(c, "imagePullPolicy")
}

// diffValues lists where got differs from want, one line per differing path.
func diffValues(path string, want, got any) []string {
	mismatch := func() []string {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, compact(want), compact(got))}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return mismatch()
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			out = append(out, diffValues(path+"."+k, w[k], g[k])...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return mismatch()
		}
		var out []string
		for i := range w {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return mismatch()
	}
	return nil
}

func compact(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sameFiles checks that the files wantGlob and gotGlob match have the same names and
// bytes; fix says how to mend a difference.
func sameFiles(t *testing.T, wantGlob, gotGlob, fix string) {
	t.Helper()
	want, _ := filepath.Glob(wantGlob)
	got, _ := filepath.Glob(gotGlob)
	if len(want) == 0 {
		t.Fatalf("no %s", wantGlob)
	}
	base := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if !slices.Equal(base(want), base(got)) {
		t.Errorf("%s has %v, %s has %v", wantGlob, base(want), gotGlob, base(got))
	}
	for _, w := range want {
		g := filepath.Join(filepath.Dir(gotGlob), filepath.Base(w))
		wb, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		gb, err := os.ReadFile(g)
		if err != nil {
			continue // reported above
		}
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s differs from %s: %s", g, w, fix)
		}
	}
}

// checkVolumes checks that every volume the container mounts is a volume of the pod.
func checkVolumes(t *testing.T, spec map[string]any) {
	t.Helper()
	volumes := map[any]bool{}
	for _, v := range sliceAt(spec, "volumes") {
		volumes[v.(map[string]any)["name"]] = true
	}
	for _, m := range sliceAt(firstContainer(t, spec), "volumeMounts") {
		if name := m.(map[string]any)["name"]; !volumes[name] {
			t.Errorf("the container mounts %v, which is not a volume of the pod", name)
		}
	}
}

func objectKey(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func keys(objects []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, u := range objects {
		out[objectKey(u)] = true
	}
	return out
}

func kindsOf(objects []*unstructured.Unstructured) map[string]int {
	out := map[string]int{}
	for _, u := range objects {
		out[u.GetKind()]++
	}
	return out
}

func find(t *testing.T, objects []*unstructured.Unstructured, key string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objects {
		if objectKey(u) == key {
			return u
		}
	}
	t.Fatalf("the chart does not render %s", key)
	return nil
}

func podSpec(t *testing.T, objects []*unstructured.Unstructured, ns string) map[string]any {
	t.Helper()
	dep := find(t, objects, "Deployment/"+ns+"/streamscaler")
	spec, ok := nested(dep.Object, "spec", "template", "spec").(map[string]any)
	if !ok {
		t.Fatal("the Deployment has no pod template")
	}
	return spec
}

func firstContainer(t *testing.T, spec map[string]any) map[string]any {
	t.Helper()
	containers := sliceAt(spec, "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	return containers[0].(map[string]any)
}

func nested(obj map[string]any, fields ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, fields...)
	return v
}

func sliceAt(obj map[string]any, fields ...string) []any {
	v, _ := nested(obj, fields...).([]any)
	return v
}

func stringsAt(obj map[string]any, fields ...string) []string {
	var out []string
	for _, v := range sliceAt(obj, fields...) {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func isSubset(small, big map[string]string) bool {
	for k, v := range small {
		if got, ok := big[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// jsonRoundTrip gives v the types a parsed manifest has (float64 numbers, []any).
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
