package events

import (
	"strings"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func TestParse(t *testing.T) {
	evs, err := Parse(strings.NewReader("# the final\nname,start,duration,liftPercent,venue\nFinal,1998-07-12T19:00:00Z,2h30m,400,Saint-Denis\nSemi,1998-07-08T19:00:00Z,2h,,Saint-Denis\n"), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Name != "Final" || !evs[0].Start.Time.Equal(time.Date(1998, 7, 12, 19, 0, 0, 0, time.UTC)) ||
		evs[0].Duration.Duration != 150*time.Minute || evs[0].LiftPercent == nil || *evs[0].LiftPercent != 400 || evs[1].LiftPercent != nil {
		t.Fatalf("got %+v", evs)
	}
	bad := []struct{ in, want string }{
		{"", "empty"},
		{"start,name\n", `no "duration" column`},
		{"start,duration,name\n", "no events"},
		{"start,duration,name\n1998-07-12 19:00,2h,Final\n", `line 2: start "1998-07-12 19:00": want RFC 3339`},
		{"start,duration,name\n1998-07-12T19:00:00Z,30s,Final\n", `duration "30s"`},
		{"start,duration,name\n1998-07-12T19:00:00Z,25h,Final\n", `duration "25h"`},
		{"start,duration,name\n1998-07-12T19:00:00Z,2h,\n", `name ""`},
		{"start,duration,name,liftPercent\n1998-07-12T19:00:00Z,2h,Final,50\n", `liftPercent "50"`},
		{"start,duration,name,liftPercent\n1998-07-12T19:00:00Z,2h,Final,3.5\n", `liftPercent "3.5"`},
		{"start,duration,name\n1998-07-12T19:00:00Z,2h\n", "line 2: no name value"},
		{"start,duration,name,start\n", `"start" appears twice`},
	}
	for _, b := range bad {
		_, err := Parse(strings.NewReader(b.in), "t.csv")
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.HasPrefix(err.Error(), "t.csv") {
			t.Errorf("%q: error %v, want one naming the file and %q", b.in, err, b.want)
		}
	}
	var many strings.Builder
	many.WriteString("start,duration,name\n")
	for range v1alpha1.MaxEvents + 1 {
		many.WriteString("1998-07-12T19:00:00Z,2h,x\n")
	}
	if _, err := Parse(strings.NewReader(many.String()), "t.csv"); err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Errorf("%d events: error %v, want the limit", v1alpha1.MaxEvents+1, err)
	}
}
