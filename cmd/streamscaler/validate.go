package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/api/v1alpha1/crdvalidation"
)

func newValidateCommand() *cobra.Command {
	var files []string
	var showDefaults bool
	cmd := &cobra.Command{
		Use:   "validate -f FILE [-f FILE ...]",
		Short: "Check ScalingPolicy YAML offline with the API server's rules",
		Long: `validate checks every ScalingPolicy in the files with the generated CRD's schema, defaults
and CEL rules, run by the API server's own validation code, plus the checks a schema
cannot express. Every error names its field path. Other documents (such as a
SimulationProfile) are skipped. It exits non-zero when any policy is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), cmd.OutOrStdout(), files, showDefaults)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "YAML file to check (repeatable; - for standard input)")
	cmd.Flags().BoolVar(&showDefaults, "show-defaults", false, "print each valid policy with the API server's defaults filled in")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func runValidate(ctx context.Context, out io.Writer, files []string, showDefaults bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	v, err := crdvalidation.ScalingPolicies()
	if err != nil {
		return err
	}
	invalid, checked := 0, 0
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
			if head.Kind != "ScalingPolicy" {
				continue
			}
			checked++
			if head.Metadata.Name != "" {
				where = fmt.Sprintf("%s (%s/%s)", where, head.Metadata.Namespace, head.Metadata.Name)
			}
			_, obj, errs, err := v.Policy(ctx, doc)
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
			if showDefaults {
				y, err := yaml.Marshal(obj)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "---\n%s", y)
			}
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
