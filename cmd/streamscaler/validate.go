package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/api/v1alpha1/crdvalidation"
)

func newValidateCommand() *cobra.Command {
	var files, schedules []string
	var showDefaults bool
	cmd := &cobra.Command{
		Use:   "validate {-f FILE | --events FILE} ...",
		Short: "Check ScalingPolicy YAML and event schedules offline with the API server's rules",
		Long: `validate checks every ScalingPolicy in the files with the generated CRD's schema, defaults
and CEL rules, run by the API server's own validation code, plus the checks a schema
cannot express. Every error names its field path. A ConfigMap in the files that a policy
there names in prediction.eventsConfigMap (same namespace and name) has its key checked
as the controller reads it; --events checks a schedule file (CSV) the same way. Other
documents (such as a SimulationProfile) are skipped. It exits non-zero when any policy or
schedule is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 && len(schedules) == 0 {
				return errors.New("nothing to check: give -f FILE or --events FILE")
			}
			return runValidate(cmd.Context(), cmd.OutOrStdout(), files, schedules, showDefaults)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "YAML file to check (repeatable; - for standard input)")
	cmd.Flags().StringArrayVar(&schedules, "events", nil, "schedule of events to check, as CSV: the form of an events ConfigMap's key and of simulate --events (repeatable)")
	cmd.Flags().BoolVar(&showDefaults, "show-defaults", false, "print each valid policy with the API server's defaults filled in")
	return cmd
}

// objectKey is a namespaced name, as written in a file (namespace may be empty).
type objectKey struct{ namespace, name string }

// scheduleRef is a valid policy's prediction.eventsConfigMap.
type scheduleRef struct {
	policy string // where the policy is, for the output
	cm     objectKey
	key    string
}

func runValidate(ctx context.Context, out io.Writer, files, schedules []string, showDefaults bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	v, err := crdvalidation.ScalingPolicies()
	if err != nil {
		return err
	}
	invalid, checked := 0, 0
	configMaps := map[objectKey]corev1.ConfigMap{}
	configMapAt := map[objectKey]string{}
	var refs []scheduleRef
	for _, name := range files {
		data, err := readInput(name)
		if err != nil {
			return err
		}
		docs, err := policyfile.Split(data)
		if err != nil {
			fmt.Fprintf(out, "%s %v\n", name, err)
			invalid++
			continue
		}
		for i, doc := range docs {
			where := fmt.Sprintf("%s document %d", name, i+1)
			var head struct {
				Kind     string `json:"kind"`
				Metadata struct{ Name, Namespace string }
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				fmt.Fprintf(out, "%s: not YAML: %v\n", where, err)
				invalid++
				continue
			}
			if head.Kind == "ConfigMap" {
				var cm corev1.ConfigMap
				if err := yaml.Unmarshal(doc, &cm); err != nil {
					fmt.Fprintf(out, "%s: not a ConfigMap: %v\n", where, err)
					invalid++
					continue
				}
				k := objectKey{cm.Namespace, cm.Name}
				configMaps[k], configMapAt[k] = cm, where
				continue
			}
			if head.Kind != "ScalingPolicy" {
				continue
			}
			checked++
			if head.Metadata.Name != "" {
				where = fmt.Sprintf("%s (%s/%s)", where, head.Metadata.Namespace, head.Metadata.Name)
			}
			policy, obj, errs, err := v.Policy(ctx, doc)
			if err != nil {
				fmt.Fprintf(out, "%s: %v\n", where, err)
				invalid++
				continue
			}
			if len(errs) > 0 {
				invalid++
				fmt.Fprintf(out, "%s: invalid\n", where)
				for _, e := range errs {
					fmt.Fprintf(out, "  - %s\n", crdvalidation.Describe(e))
				}
				continue
			}
			fmt.Fprintf(out, "%s: valid\n", where)
			if pr := policy.Spec.Prediction; pr != nil && pr.EventsConfigMap != nil {
				refs = append(refs, scheduleRef{policy: where, cm: objectKey{policy.Namespace, pr.EventsConfigMap.Name}, key: pr.EventsConfigMap.EventsKey()})
			}
			if showDefaults {
				y, err := yaml.Marshal(obj)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "---\n%s", y)
			}
		}
	}
	for _, ref := range refs {
		cm, ok := configMaps[ref.cm]
		if !ok {
			// A file often leaves the namespace to kubectl -n: then the name decides.
			for k, c := range configMaps {
				if k.name == ref.cm.name && (k.namespace == "" || ref.cm.namespace == "") {
					cm, ok, ref.cm = c, true, k
					break
				}
			}
		}
		if !ok {
			// Most likely applied from elsewhere: said, not an error.
			fmt.Fprintf(out, "%s: names ConfigMap %s, which is not in these files: its schedule is not checked\n", ref.policy, ref.cm.name)
			continue
		}
		checked++
		where := configMapAt[ref.cm]
		data, ok := cm.Data[ref.key]
		if b, bin := cm.BinaryData[ref.key]; !ok && bin {
			data, ok = string(b), true
		}
		if !ok {
			fmt.Fprintf(out, "%s: invalid\n  - data.%s: not there; %s reads its events from it\n", where, ref.key, ref.policy)
			invalid++
			continue
		}
		if !checkSchedule(out, where, strings.NewReader(data), fmt.Sprintf("key %s", ref.key)) {
			invalid++
		}
	}
	for _, name := range schedules {
		checked++
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("--events: %w", err)
		}
		ok := checkSchedule(out, name, f, name)
		f.Close()
		if !ok {
			invalid++
		}
	}
	if checked == 0 && invalid == 0 {
		return fmt.Errorf("no ScalingPolicy found in %s", strings.Join(files, ", "))
	}
	if invalid > 0 {
		return fmt.Errorf("%d invalid document(s)", invalid)
	}
	return nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return policyfile.Read(os.Stdin, "standard input")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	return policyfile.Read(f, name)
}

// checkSchedule checks a schedule of events as the controller reads it and says so
// under where; source names it in the parser's errors. It reports whether it is valid.
func checkSchedule(out io.Writer, where string, r io.Reader, source string) bool {
	evs, err := v1alpha1.ParseEvents(r, source)
	if err != nil {
		fmt.Fprintf(out, "%s: invalid\n  - %v\n", where, err)
		return false
	}
	noun := "events"
	if len(evs) == 1 {
		noun = "event"
	}
	fmt.Fprintf(out, "%s: valid schedule, %d %s\n", where, len(evs), noun)
	return true
}
