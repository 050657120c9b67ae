package v1alpha1

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxEvents is the most events prediction.events holds, and the most a schedule read by
// ParseEvents may hold.
const MaxEvents = 1000

// KeyNotFoundError says a ConfigMap has no key a policy reads its events from.
// +kubebuilder:object:generate=false
type KeyNotFoundError struct {
	Key string
	// Keys are the keys it has (data and binaryData), sorted.
	Keys []string
}

func (e *KeyNotFoundError) Error() string {
	return fmt.Sprintf("no key %s (its keys: %s)", e.Key, strings.Join(e.Keys, ", "))
}

// EventsIn reads the schedule under key of a ConfigMap (its data, else its binaryData)
// with ParseEvents, source naming it in errors; without the key it returns a
// *KeyNotFoundError. The controller and `streamscaler validate` both read a policy's
// events ConfigMap with it.
func EventsIn(cm *corev1.ConfigMap, key, source string) ([]ScheduledEvent, error) {
	data, ok := cm.Data[key]
	if b, bin := cm.BinaryData[key]; !ok && bin {
		data, ok = string(b), true
	}
	if !ok {
		keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		for k := range cm.BinaryData {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		// The API server refuses a key in both; a file given to validate may not.
		return nil, &KeyNotFoundError{Key: key, Keys: slices.Compact(keys)}
	}
	return ParseEvents(strings.NewReader(data), source)
}

// ParseEvents reads a schedule of events as CSV: the form of prediction.eventsConfigMap's
// key and of `streamscaler simulate --events`. A header row names the columns start
// (RFC 3339), duration (a Go duration such as 2h30m) and name, and optionally
// liftPercent, in any order; other columns are ignored, and lines starting with # are
// comments. Every row is checked as the API server checks prediction.events, and an
// error names the source (name), the line and the field. A header with no row after it
// is an empty schedule.
func ParseEvents(r io.Reader, name string) ([]ScheduledEvent, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty, want a header row with start, duration and name", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%s: column %q appears twice in the header", name, h)
		}
		col[h] = i
	}
	for _, need := range []string{"start", "duration", "name"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: the header %v has no %q column", name, header, need)
		}
	}
	var out []ScheduledEvent
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		field := func(c string) (string, error) {
			i, ok := col[c]
			if !ok {
				return "", nil
			}
			if i >= len(rec) {
				return "", fmt.Errorf("%s line %d: no %s value (%d fields, want at least %d)", name, line, c, len(rec), i+1)
			}
			return strings.TrimSpace(rec[i]), nil
		}
		e, err := event(field)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, e)
		if len(out) > MaxEvents {
			return nil, fmt.Errorf("%s: more than %d events; a policy holds at most %d", name, MaxEvents, MaxEvents)
		}
	}
	return out, nil
}

func event(field func(string) (string, error)) (ScheduledEvent, error) {
	var e ScheduledEvent
	s, err := field("start")
	if err != nil {
		return e, err
	}
	start, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return e, fmt.Errorf("start %q: want RFC 3339, such as 1998-07-12T19:00:00Z", s)
	}
	if y := start.UTC().Year(); y < 1970 || y > 9999 {
		// The API server stores times in UTC as RFC 3339, with four-digit years, and
		// the zero time (0001-01-01T00:00:00Z) as no time at all.
		return e, fmt.Errorf("start %q: in UTC it falls in year %d; want years 1970 to 9999", s, y)
	}
	d, err := field("duration")
	if err != nil {
		return e, err
	}
	dur, err := time.ParseDuration(d)
	if err != nil || dur < time.Minute || dur > 24*time.Hour {
		return e, fmt.Errorf("duration %q: want a duration between 1m and 24h, such as 2h", d)
	}
	n, err := field("name")
	if err != nil {
		return e, err
	}
	if n == "" || len(n) > 128 {
		return e, fmt.Errorf("name %q: want 1 to 128 characters", n)
	}
	e = ScheduledEvent{Name: n, Start: metav1.NewTime(start), Duration: metav1.Duration{Duration: dur}}
	l, err := field("liftPercent")
	if err != nil {
		return e, err
	}
	if l != "" {
		v, err := strconv.ParseInt(l, 10, 32)
		if err != nil || v < 100 || v > 100000 {
			return e, fmt.Errorf("liftPercent %q: want a whole number from 100 to 100000", l)
		}
		lift := int32(v)
		e.LiftPercent = &lift
	}
	return e, nil
}
