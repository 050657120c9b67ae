package prometheus

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/streamscaler/streamscaler/adapters/samples"
)

// FuzzQuote: whatever the names, the PromQL string stays closed and the regex matches
// the asked pods and nothing else.
func FuzzQuote(f *testing.F) {
	f.Add("live", "srs-edge-0", "srs-edge-1")
	f.Add(`a"b`, `srs.edge`, `(x)+`)
	f.Fuzz(func(t *testing.T, namespace, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			t.Skip("pod names are DNS subdomains: ASCII")
		}
		if got, err := strconv.Unquote(`"` + promQLEscape(namespace) + `"`); err != nil || got != namespace {
			t.Fatalf("namespace %q: round trip gave %q, %v", namespace, got, err)
		}
		text, err := strconv.Unquote(`"` + promQLEscape(podsRegex([]string{a, b})) + `"`)
		if err != nil {
			t.Fatal(err)
		}
		re, err := regexp.Compile("^(?:" + text + ")$")
		if err != nil {
			t.Fatalf("%q, %q: %v", a, b, err)
		}
		if !re.MatchString(a) || !re.MatchString(b) {
			t.Fatalf("%q or %q does not match %s", a, b, text)
		}
		for _, other := range []string{a + "x", "x" + b, a + b} {
			if other != a && other != b && re.MatchString(other) {
				t.Fatalf("%q matches %s, but was not asked for", other, text)
			}
		}
	})
}

// FuzzResponse feeds any body with any status to the whole read path: no panic, and a
// read that succeeds holds exactly the asked pods with finite, non-negative values.
func FuzzResponse(f *testing.F) {
	rec, bodies := loadRecording(f)
	for name, body := range bodies {
		f.Add(body, uint16(rec.Files[name].Status))
	}
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"srs-edge-0"},"value":[1795309033.972,"-0"]}]}}`), uint16(200))
	f.Add([]byte(`{"status":"success"}`), uint16(200))
	f.Fuzz(func(t *testing.T, body []byte, status uint16) {
		code := int(status)%500 + 100
		s, err := New(Config{Address: "http://prometheus.test", RateWindow: testWindow, Now: func() time.Time { return rec.Time.Add(time.Second) }})
		if err != nil {
			t.Fatal(err)
		}
		s.transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
		})
		asked := askedLive()
		got, missing, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed(asked...), []string{"pullStreams"})
		if err != nil {
			return
		}
		if len(got) != len(asked) {
			t.Fatalf("got %d pods, asked %d: %v", len(got), len(asked), got)
		}
		for p, why := range missing {
			if _, ok := got[p]; !ok || len(why) == 0 {
				t.Fatalf("missing names %s (%v), which was not asked or has no reason", p, why)
			}
		}
		for _, p := range asked {
			for k, v := range got[p] {
				if ceiling, _ := samples.DefaultCeilings().Of(k); math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > ceiling || k != "pullStreams" {
					t.Fatalf("%s: %s = %v", p, k, v)
				}
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
