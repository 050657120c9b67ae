package crdvalidation

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Describe says one validation error in words, after its field path: what the field must
// be and, where there is one, the value it has. It drops what the API server's libraries
// add for their own readers: the path repeated in the message, "in body", and CEL's
// runtime text when a rule could not be evaluated (the rule's own message is kept).
func Describe(e *field.Error) string {
	path, detail := e.Field, e.Detail
	if m := formatRange.FindStringSubmatch(detail); m != nil && onObject(e) {
		// A number too large for its format is reported without a path, naming it in the text.
		return fmt.Sprintf("%s: must be a whole number that fits in %s bits", m[3], strings.TrimPrefix(m[2], "int"))
	}
	if detail == RulesNotChecked {
		return "the CEL rules were not run because of the errors above; fix them and check again"
	}
	if onObject(e) {
		return detail
	}
	value := e.BadValue
	detail = strings.TrimPrefix(detail, e.Field+" in body ")
	if m := celRuntime.FindStringSubmatch(detail); m != nil {
		detail, value = m[1], nil // the value is the schema's type name, not the field's
	}
	if words, ok := patterns[strings.TrimPrefix(detail, "should match ")]; ok {
		detail = words
	}
	for _, r := range rewordings {
		detail = r.re.ReplaceAllString(detail, r.to)
	}
	var words string
	switch e.Type {
	case field.ErrorTypeRequired:
		words = "is required"
		if detail != "" {
			words = detail
		}
	case field.ErrorTypeNotSupported:
		words = "must be one of " + strings.TrimPrefix(detail, "supported values: ") + got(value)
	case field.ErrorTypeTypeInvalid:
		if m := typeName.FindStringSubmatch(detail); m != nil {
			words = fmt.Sprintf("must be %s %s, not %s", article(m[1]), m[1], article(m[2])+" "+m[2])
		} else {
			words = detail
		}
	case field.ErrorTypeDuplicate:
		words = "is a duplicate" + got(value)
	case field.ErrorTypeTooMany, field.ErrorTypeInvalid:
		words = detail + got(value)
	default: // Forbidden, TooLong, TooShort, Internal: the detail says it all
		words = detail
	}
	return path + ": " + words
}

var (
	// formatRange is kube-openapi's message for a number beyond its int32 or int64 format.
	formatRange = regexp.MustCompile(`^(Checked )?value must be of type integer with format (int32|int64) in (\S+)$`)
	// celRuntime is the CEL validator's message for a rule that failed to evaluate.
	celRuntime = regexp.MustCompile(`^.* evaluating rule: (.*)$`)
	// typeName is kube-openapi's message for a value of the wrong JSON type.
	typeName = regexp.MustCompile(`^must be of type (\w+): "(\w+)"$`)
	// patterns says in words what the schema's regular expressions ask for.
	patterns = map[string]string{
		`'^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$'`: "must be a quantity such as 80, 500m, 2.5M or 1Gi",
		`'^https?://'`: "must start with http:// or https://",
	}
	// rewordings turn kube-openapi's "should" into the API's "must".
	rewordings = []struct {
		re *regexp.Regexp
		to string
	}{
		{regexp.MustCompile(`^should be greater than or equal to (\S+)$`), "must be at least $1"},
		{regexp.MustCompile(`^should be less than or equal to (\S+)$`), "must be at most $1"},
		{regexp.MustCompile(`^should have at least 1 items$`), "must have at least 1 item"},
		{regexp.MustCompile(`^should have at least (\d+) items$`), "must have at least $1 items"},
		{regexp.MustCompile(`^should be at least (\d+) chars long$`), "must be at least $1 characters long"},
		{regexp.MustCompile(`^should match '(.*)'$`), "must match $1"},
	}
)

// got shows the value a field has, when the error carries a simple one.
func got(v any) string {
	switch v := v.(type) {
	case nil, field.OmitValueType:
		return ""
	case string:
		if v == "" || v == "object" || v == "array" || v == "<value omitted>" {
			return ""
		}
		return fmt.Sprintf(" (got %q)", v)
	case bool, int, int32, int64, float64:
		return fmt.Sprintf(" (got %v)", v)
	default:
		return ""
	}
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// unknownField is the error for a field the schema does not have.
func unknownField(path, suggestion string) *field.Error {
	detail := "unknown field"
	if suggestion != "" {
		detail += fmt.Sprintf(" (did you mean %s?)", suggestion)
	}
	return &field.Error{Type: field.ErrorTypeForbidden, Field: path, BadValue: field.OmitValueType{}, Detail: detail}
}

// metadataFields are the ObjectMeta fields a policy file may set.
var metadataFields = []string{"name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"}

// suggest returns the known field nearest in spelling to an unknown one, or "".
func (v *Validator) suggest(path string) string {
	parts := strings.Split(path, ".")
	last := parts[len(parts)-1]
	var known []string
	if parts[0] == "metadata" && len(parts) == 2 {
		known = metadataFields
	} else {
		s := v.structural
		for _, seg := range parts[:len(parts)-1] {
			name, indexed := strings.CutSuffix(seg, "]")
			if indexed {
				name = name[:strings.IndexByte(name, '[')]
			}
			next, ok := s.Properties[name]
			if !ok {
				return ""
			}
			s = &next
			for indexed && s.Items != nil {
				s, indexed = s.Items, false
			}
		}
		for k := range s.Properties {
			known = append(known, k)
		}
	}
	sort.Strings(known)
	best, bestDist := "", 3 // at most two edits away
	for _, k := range known {
		if d := distance(strings.ToLower(last), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
