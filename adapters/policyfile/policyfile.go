package policyfile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/api/v1alpha1/crdvalidation"
)

// maxFileBytes bounds what is read: a policy is a few KiB.
const maxFileBytes = 1 << 20

// File is a parsed policy file.
type File struct {
	// Policy is the ScalingPolicy document.
	Policy *v1alpha1.ScalingPolicy
	// Others are the remaining documents keyed by kind, raw.
	Others map[string][]byte
}

// Load reads and parses a policy file.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening policy file: %w", err)
	}
	defer f.Close()
	data, err := Read(f, "policy file "+path)
	if err != nil {
		return nil, err
	}
	out, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return out, nil
}

// Read reads all of r, which name describes in errors, and refuses more than 1 MiB.
func Read(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", name, maxFileBytes)
	}
	return data, nil
}

// Parse splits YAML documents and checks the ScalingPolicy as the API server would, with
// the CRD embedded in the binary (crdvalidation): unknown fields are errors, so a misspelt
// field does not silently take its default, and the CRD's defaults are filled in, so the
// policy is the one the API server would store.
func Parse(data []byte) (*File, error) {
	v, err := crdvalidation.ScalingPolicies()
	if err != nil {
		return nil, err
	}
	docs, err := Split(data)
	if err != nil {
		return nil, err
	}
	out := &File{Others: map[string][]byte{}}
	for i, doc := range docs {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		switch {
		case head.Kind == "":
			return nil, fmt.Errorf("document %d: no kind", i+1)
		case head.Kind == "ScalingPolicy":
			if head.APIVersion != v1alpha1.GroupVersion.String() {
				return nil, fmt.Errorf("document %d: apiVersion %q, want %q", i+1, head.APIVersion, v1alpha1.GroupVersion.String())
			}
			if out.Policy != nil {
				return nil, fmt.Errorf("document %d: a second ScalingPolicy; one per file", i+1)
			}
			p, _, errs, err := v.Policy(context.Background(), doc)
			if err != nil {
				return nil, fmt.Errorf("document %d (ScalingPolicy): %w", i+1, err)
			}
			if len(errs) > 0 {
				problems := make([]string, len(errs))
				for j, e := range errs {
					problems[j] = crdvalidation.Describe(e)
				}
				return nil, fmt.Errorf("document %d (ScalingPolicy): %s", i+1, strings.Join(problems, "; "))
			}
			out.Policy = p
		default:
			if _, dup := out.Others[head.Kind]; dup {
				return nil, fmt.Errorf("document %d: a second %s", i+1, head.Kind)
			}
			out.Others[head.Kind] = doc
		}
	}
	if out.Policy == nil {
		return nil, errors.New("no ScalingPolicy document")
	}
	return out, nil
}

// Split returns the YAML documents of data with kubectl's reader: a separator is a line
// that starts with "---", optionally followed by a comment. Empty documents (blank lines
// and comments only) are dropped and not counted in "document N".
func Split(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		if !isEmpty(doc) {
			docs = append(docs, doc)
		}
	}
}

// isEmpty says whether doc holds no YAML node; a document that does not parse is not
// empty, so that its error is reported with its number.
func isEmpty(doc []byte) bool {
	var v any
	return yaml.Unmarshal(doc, &v) == nil && v == nil
}
