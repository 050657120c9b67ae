package trace

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tracesDir holds the real traces; testdata/traces/README.md describes them.
var tracesDir = filepath.Join("..", "..", "testdata", "traces")

// TestRealTraces loads every shipped trace and checks it against the facts in
// the README (taken from shared/traces/MANIFEST.md), so a parser change that
// drops or shifts rows is caught on real data.
func TestRealTraces(t *testing.T) {
	tests := []struct {
		file       string
		opt        Options
		wantColumn string
		wantRows   int
		wantFirst  string // UTC, RFC 3339
		firstValue float64
		wantLast   string
		wantStep   time.Duration
		wantMax    float64 // exact; MANIFEST.md rounds it
		wantSum    float64 // 0: not checked
	}{
		{
			file: "wc98_requests_per_minute.csv", wantColumn: "count", wantRows: 125300,
			wantFirst: "1998-04-30T21:30:00Z", firstValue: 2, wantLast: "1998-07-26T21:59:00Z",
			wantStep: time.Minute, wantMax: 229426,
			wantSum: 1352804107, // the published total of the World Cup logs
		},
		{
			file: "nab_twitter_volume_FB_5min.csv", wantColumn: "value", wantRows: 15833,
			wantFirst: "2015-02-26T21:42:53Z", firstValue: 53, wantLast: "2015-04-22T21:02:53Z",
			wantStep: 5 * time.Minute, wantMax: 1258,
		},
		{
			file: "nab_twitter_volume_AAPL_5min.csv", wantColumn: "value", wantRows: 15902,
			wantFirst: "2015-02-26T21:42:53Z", firstValue: 104, wantLast: "2015-04-23T02:47:53Z",
			wantStep: 5 * time.Minute, wantMax: 13479,
		},
		{
			// Eight 5-minute intervals have no row (see the README); Step is the
			// usual spacing, so it is still 5 minutes.
			file: "nab_elb_request_count_5min.csv", wantColumn: "value", wantRows: 4032,
			wantFirst: "2014-04-10T00:04:00Z", firstValue: 94, wantLast: "2014-04-24T00:39:00Z",
			wantStep: 5 * time.Minute, wantMax: 656,
		},
		{
			file: "nab_nyc_taxi_30min.csv", wantColumn: "value", wantRows: 10320,
			wantFirst: "2014-07-01T00:00:00Z", firstValue: 10844, wantLast: "2015-01-31T23:30:00Z",
			wantStep: 30 * time.Minute, wantMax: 39197,
		},
		{
			// The file is New York local time; the autumn DST change leaves the
			// series increasing because the repeated hour appears only once.
			file: "nab_nyc_taxi_30min.csv", opt: Options{Location: mustLoad("America/New_York")},
			wantColumn: "value", wantRows: 10320,
			wantFirst: "2014-07-01T04:00:00Z", firstValue: 10844, wantLast: "2015-02-01T04:30:00Z",
			wantStep: 30 * time.Minute, wantMax: 39197,
		},
		{
			file: "wiki_en_hourly_2016-01.csv", opt: Options{Column: "en_requests"},
			wantColumn: "en_requests", wantRows: 744,
			wantFirst: "2016-01-01T00:00:00Z", firstValue: 4259454, wantLast: "2016-01-31T23:00:00Z",
			wantStep: time.Hour, wantMax: 10548855,
		},
		{
			file: "wiki_en_hourly_2016-01.csv", opt: Options{Column: "distinct_pages"},
			wantColumn: "distinct_pages", wantRows: 744,
			wantFirst: "2016-01-01T00:00:00Z", firstValue: 1447793, wantLast: "2016-01-31T23:00:00Z",
			wantStep: time.Hour,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.wantColumn+" "+tc.wantFirst, func(t *testing.T) {
			path := filepath.Join(tracesDir, tc.file)
			s, err := Load(path, tc.opt)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if s.Source != path || s.Column != tc.wantColumn {
				t.Errorf("Source, Column = %q, %q; want %q, %q", s.Source, s.Column, path, tc.wantColumn)
			}
			if len(s.Points) != tc.wantRows {
				t.Fatalf("%d rows; want %d", len(s.Points), tc.wantRows)
			}
			first, last := s.Points[0], s.Points[len(s.Points)-1]
			if got := first.Time.UTC().Format(time.RFC3339); got != tc.wantFirst || first.Value != tc.firstValue {
				t.Errorf("first row %s %v; want %s %v", got, first.Value, tc.wantFirst, tc.firstValue)
			}
			if got := last.Time.UTC().Format(time.RFC3339); got != tc.wantLast {
				t.Errorf("last row at %s; want %s", got, tc.wantLast)
			}
			if got := s.Step(); got != tc.wantStep {
				t.Errorf("Step() = %v; want %v", got, tc.wantStep)
			}
			if tc.wantMax != 0 && s.Max() != tc.wantMax {
				t.Errorf("Max() = %v; want %v", s.Max(), tc.wantMax)
			}
			if tc.wantSum != 0 {
				sum := 0.0
				for _, p := range s.Points {
					sum += p.Value
				}
				if sum != tc.wantSum {
					t.Errorf("sum of values = %.0f; want %.0f", sum, tc.wantSum)
				}
			}
		})
	}
}

func TestRealTraceNeedsColumnChoice(t *testing.T) {
	_, err := Load(filepath.Join(tracesDir, "wiki_en_hourly_2016-01.csv"), Options{})
	if !errors.Is(err, ErrNoValueColumn) || !strings.Contains(err.Error(), "en_requests, distinct_pages") {
		t.Fatalf("error %v; want ErrNoValueColumn naming both value columns", err)
	}
}

// TestTraceChecksums catches a corrupted or edited copy: every CSV in
// testdata/traces must be listed in SHA256SUMS with a matching digest.
func TestTraceChecksums(t *testing.T) {
	f, err := os.Open(filepath.Join(tracesDir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS line %q is not \"<sha256>  <file>\"", sc.Text())
		}
		listed[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	csvs, err := filepath.Glob(filepath.Join(tracesDir, "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range csvs {
		if _, ok := listed[filepath.Base(p)]; !ok {
			t.Errorf("%s is not listed in SHA256SUMS", p)
		}
	}
	names := make([]string, 0, len(listed))
	for name := range listed {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got, err := sha256File(filepath.Join(tracesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got != listed[name] {
				t.Errorf("sha256 %s; SHA256SUMS says %s", got, listed[name])
			}
		})
	}
}

// TestTraceLicences checks that the licence texts the README points to ship
// with the data.
func TestTraceLicences(t *testing.T) {
	for _, name := range []string{
		"NAB_LICENSE_MIT.txt",
		"SCARF-Evaluation_LICENSE_Apache-2.0.txt",
		"WorldCup98_ITA_description_and_terms.html",
		"worldcup98-dataset_LICENSE_MIT.txt",
	} {
		t.Run(name, func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(tracesDir, "licenses", name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() == 0 {
				t.Errorf("%s is empty", name)
			}
		})
	}
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
