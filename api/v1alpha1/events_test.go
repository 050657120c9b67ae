package v1alpha1

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestParseEvents: a ConfigMap's header with no event is an empty schedule, not an
// error; everything else is checked as Parse checks it.
func TestParseEvents(t *testing.T) {
	evs, err := ParseEvents(strings.NewReader("start,duration,name\n"), "t.csv")
	if err != nil || len(evs) != 0 {
		t.Fatalf("header only: %v, %v; want no events and no error", evs, err)
	}
	evs, err = ParseEvents(strings.NewReader("start,duration,name\n1998-07-12T19:00:00Z,2h,Final\n"), "t.csv")
	if err != nil || len(evs) != 1 || evs[0].Name != "Final" {
		t.Fatalf("one event: %v, %v", evs, err)
	}
	for _, in := range []string{"", "start,name\n", "start,duration,name\n1998-07-12T19:00:00Z,30s,Final\n"} {
		if _, err := ParseEvents(strings.NewReader(in), "t.csv"); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// TestParseEventsYearBounds: a start the API server could not store (outside four-digit
// years in UTC, or the zero time, which it stores as no time) is refused by name; both
// were found by FuzzParseEvents.
func TestParseEventsYearBounds(t *testing.T) {
	for _, start := range []string{"0001-01-01T00:00:00Z", "0000-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "1969-12-31T23:59:59Z"} {
		_, err := ParseEvents(strings.NewReader("start,duration,name\n"+start+",1h,x\n"), "t.csv")
		if err == nil || !strings.Contains(err.Error(), "t.csv line 2: start \""+start+"\": in UTC it falls in year") {
			t.Errorf("start %s: error %v, want one naming the year", start, err)
		}
	}
	if _, err := ParseEvents(strings.NewReader("start,duration,name\n1970-01-01T00:00:00Z,1h,x\n9999-12-31T22:00:00Z,1h,y\n"), "t.csv"); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}

// TestEventsIn: the key is read from data, else binaryData; without it the error names
// the keys there are, sorted, as a *KeyNotFoundError.
func TestEventsIn(t *testing.T) {
	const csv = "start,duration,name\n1998-07-12T19:00:00Z,2h,Final\n"
	cm := &corev1.ConfigMap{Data: map[string]string{"z.csv": "x"}, BinaryData: map[string][]byte{"events.csv": []byte(csv), "a.bin": nil}}
	evs, err := EventsIn(cm, "events.csv", "cm")
	if err != nil || len(evs) != 1 || evs[0].Name != "Final" {
		t.Fatalf("from binaryData: %v, %v", evs, err)
	}
	cm.Data["events.csv"] = "start,duration,name\n"
	if evs, err := EventsIn(cm, "events.csv", "cm"); err != nil || len(evs) != 0 {
		t.Fatalf("data comes before binaryData: %v, %v", evs, err)
	}
	_, err = EventsIn(cm, "fixtures.csv", "cm")
	missing, ok := errors.AsType[*KeyNotFoundError](err)
	if !ok || err.Error() != "no key fixtures.csv (its keys: a.bin, events.csv, z.csv)" || missing.Key != "fixtures.csv" {
		t.Fatalf("missing key: %v", err)
	}
	cm.Data["events.csv"] = "start,duration,name\nsoon,2h,Final\n"
	if _, err := EventsIn(cm, "events.csv", "cm"); err == nil || !strings.HasPrefix(err.Error(), `cm line 2: start "soon"`) {
		t.Fatalf("a bad row: %v", err)
	}
}
