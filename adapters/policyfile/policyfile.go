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
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading policy file %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("reading policy file %s: larger than %d bytes", path, maxFileBytes)
	}
	out, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return out, nil
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
	out := &File{Others: map[string][]byte{}}
	for i, doc := range splitDocuments(data) {
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

// Split returns the YAML documents of data, dropping empty ones.
func Split(data []byte) [][]byte { return splitDocuments(data) }

// splitDocuments splits on lines that are exactly "---", dropping empty documents.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if strings.TrimSpace(stripComments(cur.String())) != "" {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxFileBytes)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " \t") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}
