package srsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// shape writes a JSON document's structure: object keys in order, array elements
// (which must all share one shape), and for every value its kind, with numbers split
// into integers and decimals as SRS prints them ("0.00" is a decimal).
func shape(t *testing.T, doc []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", doc, err)
	}
	// Decode again token by token: maps lose the key order.
	dec = json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	s, err := shapeOf(dec)
	if err != nil {
		t.Fatalf("walking %s: %v", doc, err)
	}
	return s
}

func shapeOf(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			var parts []string
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return "", err
				}
				v, err := shapeOf(dec)
				if err != nil {
					return "", err
				}
				parts = append(parts, fmt.Sprintf("%s:%s", k, v))
			}
			_, err := dec.Token()
			return "{" + strings.Join(parts, ",") + "}", err
		case '[':
			elem := ""
			for dec.More() {
				v, err := shapeOf(dec)
				if err != nil {
					return "", err
				}
				if elem != "" && v != elem {
					return "", fmt.Errorf("array elements differ: %s and %s", elem, v)
				}
				elem = v
			}
			_, err := dec.Token()
			return "[" + elem + "]", err
		}
	case json.Number:
		if strings.ContainsAny(tok.String(), ".eE") {
			return "decimal", nil
		}
		return "integer", nil
	case string:
		return "string", nil
	case bool:
		return "bool", nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("unexpected token %v", tok)
}

// recordedSituation is what the recordings show: one publisher and two players on
// live/s1, 35 s after the players joined.
func recordedSituation(t *testing.T, cfg Config) (*Server, *clock, []string) {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)}
	cfg.Now = c.Now
	s := start(t, cfg)
	var ids []string
	for i, cl := range []Client{
		{Stream: "s1", Publish: true, BitrateBps: 384e3, Start: c.Now()},
		{Stream: "s1", BitrateBps: 386e3, Start: c.Now().Add(4 * time.Second)},
		{Stream: "s1", BitrateBps: 386e3, Start: c.Now().Add(4 * time.Second)},
	} {
		id, err := s.AddClient(cl)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	c.Add(39 * time.Second)
	return s, c, ids
}

func TestAnswersHaveTheRealServersStructure(t *testing.T) {
	s, _, ids := recordedSituation(t, Config{})
	api := "http://" + s.APIAddr()
	cases := []struct {
		name, method, path, recording string
	}{
		{"versions", http.MethodGet, "/api/v1/versions", "versions.json"},
		{"summaries", http.MethodGet, "/api/v1/summaries", "summaries.json"},
		{"streams", http.MethodGet, "/api/v1/streams/", "streams.json"},
		{"clients", http.MethodGet, "/api/v1/clients/", "clients.json"},
		{"a first page of one client still lists all three, as 7.0.18 did", http.MethodGet, "/api/v1/clients/?start=0&count=1", "clients_page1.json"},
		{"a kick of a player", http.MethodDelete, "/api/v1/clients/" + ids[1], "kick_ok.json"},
		{"a kick of an unknown id", http.MethodDelete, "/api/v1/clients/nosuchid", "kick_not_found.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, got := do(t, tc.method, api+tc.path)
			if status != http.StatusOK {
				t.Fatalf("HTTP %d: %s", status, got)
			}
			want := real(t, tc.recording)
			if g, w := shape(t, got), shape(t, want); g != w {
				t.Fatalf("structure differs from the real SRS 7.0.18\n got: %s\nwant: %s\nbody: %s", g, w, got)
			}
			if tc.recording == "kick_not_found.json" && !bytes.Equal(got, want) {
				t.Fatalf("got %s, want the recorded %s", got, want)
			}
		})
	}
}

func TestExporterHasTheRealServersSeries(t *testing.T) {
	s, _, _ := recordedSituation(t, Config{})
	_, got := do(t, http.MethodGet, "http://"+s.ExporterAddr()+"/metrics")
	series := func(b []byte) string {
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("parsing %s: %v", b, err)
		}
		var out []string
		for name, f := range fams {
			for _, m := range f.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName())
				}
				out = append(out, fmt.Sprintf("%s %s {%s}", name, f.GetType(), strings.Join(labels, ",")))
			}
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	if g, w := series(got), series(real(t, "exporter_metrics.txt")); g != w {
		t.Fatalf("series differ from the real exporter's\n got:\n%s\nwant:\n%s", g, w)
	}
	// The same order of families as the real exporter, too.
	names := func(b []byte) []string {
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "# TYPE ") {
				out = append(out, strings.Fields(line)[2])
			}
		}
		return out
	}
	if g, w := names(got), names(real(t, "exporter_metrics.txt")); strings.Join(g, " ") != strings.Join(w, " ") {
		t.Fatalf("families in order %v, want %v", g, w)
	}
}
