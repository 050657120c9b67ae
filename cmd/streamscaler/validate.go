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

// scheduleRef is a valid policy's prediction.eventsConfigMap.
type scheduleRef struct {
	policy string // where the policy is, for the output
	// namespace (empty when the file leaves it to kubectl -n) and name of the ConfigMap
	namespace, name string
	key             string
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
	// configMaps are the files' ConfigMaps, in the order read, with where each is.
	type configMapAt struct {
		cm    corev1.ConfigMap
		where string
	}
	var configMaps []configMapAt
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
				configMaps = append(configMaps, configMapAt{cm, where})
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
				refs = append(refs, scheduleRef{policy: where, namespace: policy.Namespace, name: pr.EventsConfigMap.Name, key: pr.EventsConfigMap.EventsKey()})
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
		// By namespace and name; a file that leaves the namespace to kubectl -n matches
		// by name. The exact match wins, else the first in the files.
		var found *configMapAt
		for i, c := range configMaps {
			if c.cm.Name != ref.name {
				continue
			}
			if c.cm.Namespace == ref.namespace {
				found = &configMaps[i]
				break
			}
			if found == nil && (c.cm.Namespace == "" || ref.namespace == "") {
				found = &configMaps[i]
			}
		}
		if found == nil {
			// Most likely applied from elsewhere: said, not an error.
			fmt.Fprintf(out, "%s: names ConfigMap %s, which is not in these files: its schedule is not checked\n", ref.policy, ref.name)
			continue
		}
		checked++
		cm, where := found.cm, found.where
		evs, err := v1alpha1.EventsIn(&cm, ref.key, "key "+ref.key)
		if _, missing := errors.AsType[*v1alpha1.KeyNotFoundError](err); missing {
			fmt.Fprintf(out, "%s: invalid\n  - data.%s: not there; %s reads its events from it\n", where, ref.key, ref.policy)
			invalid++
			continue
		}
		if !reportSchedule(out, where, evs, err) {
			invalid++
		}
	}
	for _, name := range schedules {
		checked++
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("--events: %w", err)
		}
		evs, err := v1alpha1.ParseEvents(f, name)
		f.Close()
		ok := reportSchedule(out, name, evs, err)
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

// reportSchedule says under where whether a schedule read (evs, err) is valid, and
// reports whether it is.
func reportSchedule(out io.Writer, where string, evs []v1alpha1.ScheduledEvent, err error) bool {
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
