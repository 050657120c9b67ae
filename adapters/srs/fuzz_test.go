package srs

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// seeds are every recorded response plus a few hand-made edge cases.
func seeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "srs", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no recorded responses: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"code":0}`, `{"code":-0}`,
		`{"code":0,"data":{"ok":true,"self":{"cpu_percent":-0,"mem_percent":1e306}}}`,
		`{"code":0,"total":2,"clients":[{"id":1,"publish":true},{"id":"1","type":"rtc-play"}]}`,
		`{"code":0,"streams":[{"id":"a","kbps":{"recv_30s":1e308,"send_30s":1e308}}]}`,
	} {
		f.Add([]byte(s))
	}
}

// valid is what every accepted number must be: finite, not negative, not -0.
func valid(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 && !math.Signbit(v)
}

func FuzzParseSummaries(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseSummaries(body)
		if err != nil {
			if s != (summary{}) {
				t.Fatalf("rejected with a result %+v", s)
			}
			return
		}
		for _, v := range []*float64{s.cpu, s.memory} {
			if v != nil && !valid(*v) {
				t.Fatalf("accepted %v", *v)
			}
		}
	})
}

func FuzzParseClients(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseClients(body)
		if err != nil {
			if p.items != nil {
				t.Fatalf("rejected with %d clients", len(p.items))
			}
			return
		}
		if p.total < -1 {
			t.Fatalf("total %d", p.total)
		}
		for _, c := range p.items {
			if c.id == "" {
				t.Fatal("accepted a client without an id")
			}
		}
	})
}

func FuzzParseStreams(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseStreams(body)
		if err != nil {
			return
		}
		for _, s := range p.items {
			if s.id == "" || !valid(s.kbps) {
				t.Fatalf("accepted stream %+v", s)
			}
		}
	})
}
