package trace

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the New York case must not depend on the host's zoneinfo
)

type wantPoint struct {
	time  string // RFC 3339 in UTC
	value float64
}

// parseCases are traces that must be accepted; FuzzParse seeds from them too.
var parseCases = []struct {
	name       string
	csv        string
	opt        Options
	wantColumn string
	want       []wantPoint
}{
	{
		name: "RFC 3339 in UTC",
		csv:  "timestamp,value\n2015-02-26T21:42:53Z,53\n2015-02-26T21:47:53Z,64\n",
		want: []wantPoint{{"2015-02-26T21:42:53Z", 53}, {"2015-02-26T21:47:53Z", 64}},
	},
	{
		name: "RFC 3339 with an offset is moved to UTC",
		csv:  "time,value\n2015-02-26T23:42:53+02:00,1\n2015-02-26T16:47:53-05:00,2\n",
		want: []wantPoint{{"2015-02-26T21:42:53Z", 1}, {"2015-02-26T21:47:53Z", 2}},
	},
	{
		name: "RFC 3339 with nanoseconds",
		csv:  "ts,value\n2015-02-26T21:42:53.000000001Z,1\n2015-02-26T21:42:53.5Z,2\n",
		want: []wantPoint{{"2015-02-26T21:42:53.000000001Z", 1}, {"2015-02-26T21:42:53.5Z", 2}},
	},
	{
		name: "unix seconds, integer and decimal",
		csv:  "ts,value\n1424986973,1\n1424986973.25,2\n1424987273.000000001,3\n",
		want: []wantPoint{{"2015-02-26T21:42:53Z", 1}, {"2015-02-26T21:42:53.25Z", 2}, {"2015-02-26T21:47:53.000000001Z", 3}},
	},
	{
		name: "numbers above 1e11 are unix milliseconds",
		csv:  "ts,value\n1424986973000,1\n1424986973250.5,2\n",
		want: []wantPoint{{"2015-02-26T21:42:53Z", 1}, {"2015-02-26T21:42:53.2505Z", 2}},
	},
	{
		name: "exactly 1e11 is still seconds",
		csv:  "ts,value\n100000000000,1\n",
		want: []wantPoint{{"5138-11-16T09:46:40Z", 1}},
	},
	{
		name: "space-separated date and time",
		csv:  "period,count\n1998-04-30 21:30:00,2\n1998-04-30 21:31:00,11\n",
		want: []wantPoint{{"1998-04-30T21:30:00Z", 2}, {"1998-04-30T21:31:00Z", 11}},
	},
	{
		name: "T-separated date and time without zone",
		csv:  "timestamp,value\n2014-07-01T00:00:00,10844\n2014-07-01T00:30:00,8127\n",
		want: []wantPoint{{"2014-07-01T00:00:00Z", 10844}, {"2014-07-01T00:30:00Z", 8127}},
	},
	{
		name: "minutes without seconds",
		csv:  "time,value\n2014-07-01 00:00,1\n2014-07-01 00:30,2\n",
		want: []wantPoint{{"2014-07-01T00:00:00Z", 1}, {"2014-07-01T00:30:00Z", 2}},
	},
	{
		name: "dates only",
		csv:  "date,value\n2016-01-01,1\n2016-01-02,2\n",
		want: []wantPoint{{"2016-01-01T00:00:00Z", 1}, {"2016-01-02T00:00:00Z", 2}},
	},
	{
		name: "fractional seconds after a zoneless time",
		csv:  "time,value\n2016-01-01 00:00:00.250,1\n",
		want: []wantPoint{{"2016-01-01T00:00:00.25Z", 1}},
	},
	{
		name: "formats may change between rows",
		csv:  "time,value\n2016-01-01,1\n2016-01-01 06:00,2\n2016-01-01T12:00:00Z,3\n1451660400,4\n",
		want: []wantPoint{{"2016-01-01T00:00:00Z", 1}, {"2016-01-01T06:00:00Z", 2}, {"2016-01-01T12:00:00Z", 3}, {"2016-01-01T15:00:00Z", 4}},
	},
	{
		name: "zoneless times are read in Options.Location",
		csv:  "timestamp,value\n2014-07-01 00:00:00,10844\n2014-12-01 00:00:00,9000\n",
		opt:  Options{Location: mustLoad("America/New_York")},
		want: []wantPoint{{"2014-07-01T04:00:00Z", 10844}, {"2014-12-01T05:00:00Z", 9000}},
	},
	{
		name: "zoned and unix times ignore Options.Location",
		csv:  "timestamp,value\n2014-07-01T00:00:00Z,1\n1404176400,2\n",
		opt:  Options{Location: mustLoad("America/New_York")},
		want: []wantPoint{{"2014-07-01T00:00:00Z", 1}, {"2014-07-01T01:00:00Z", 2}},
	},
	{
		name:       "value column chosen by name, case-insensitively",
		csv:        "timestamp_utc,en_requests,distinct_pages\n2016-01-01 00:00:00,4259454,1447793\n",
		opt:        Options{Column: "DISTINCT_PAGES"},
		wantColumn: "distinct_pages",
		want:       []wantPoint{{"2016-01-01T00:00:00Z", 1447793}},
	},
	{
		name:       "time column need not come first",
		csv:        "count,Period\n7,1998-04-30 21:30:00\n",
		wantColumn: "count",
		want:       []wantPoint{{"1998-04-30T21:30:00Z", 7}},
	},
	{
		name:       "explicit time column with an unusual name",
		csv:        "when,load,timestamp\n2016-01-01,5,garbage\n",
		opt:        Options{TimeColumn: "when", Column: "load"},
		wantColumn: "load",
		want:       []wantPoint{{"2016-01-01T00:00:00Z", 5}},
	},
	{
		name: "first recognised time header wins",
		csv:  "date,time,value\n2016-01-01,garbage,1\n",
		opt:  Options{Column: "value"},
		want: []wantPoint{{"2016-01-01T00:00:00Z", 1}},
	},
	{
		name: "byte order mark, CRLF, blank lines, spaces and quotes",
		csv:  "\uFEFF timestamp , value \r\n\r\n\" 2016-01-01 00:00:00 \",\" 1.5 \"\r\n2016-01-01 01:00:00, 2e3\r\n",
		want: []wantPoint{{"2016-01-01T00:00:00Z", 1.5}, {"2016-01-01T01:00:00Z", 2000}},
	},
	{
		name: "zero and negative zero are accepted",
		csv:  "timestamp,value\n2016-01-01,0\n2016-01-02,-0\n",
		want: []wantPoint{{"2016-01-01T00:00:00Z", 0}, {"2016-01-02T00:00:00Z", 0}},
	},
	{
		name: "no trailing newline",
		csv:  "timestamp,value\n2015-01-31 23:30:00,26288",
		want: []wantPoint{{"2015-01-31T23:30:00Z", 26288}},
	},
}

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tc.csv), "inline.csv", tc.opt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			wantColumn := tc.wantColumn
			if wantColumn == "" {
				wantColumn = "value"
				if strings.Contains(tc.csv, "count") {
					wantColumn = "count"
				}
			}
			if s.Source != "inline.csv" || s.Column != wantColumn {
				t.Errorf("Source, Column = %q, %q; want %q, %q", s.Source, s.Column, "inline.csv", wantColumn)
			}
			wantLoc := tc.opt.Location
			if wantLoc == nil {
				wantLoc = time.UTC
			}
			if len(s.Points) != len(tc.want) {
				t.Fatalf("got %d points, want %d: %+v", len(s.Points), len(tc.want), s.Points)
			}
			for i, w := range tc.want {
				p := s.Points[i]
				if got := p.Time.UTC().Format(time.RFC3339Nano); got != w.time || p.Value != w.value {
					t.Errorf("point %d = %s %v; want %s %v", i, got, p.Value, w.time, w.value)
				}
				if p.Time.Location() != wantLoc {
					t.Errorf("point %d is in %v; want %v", i, p.Time.Location(), wantLoc)
				}
			}
		})
	}
}

// rejectCases are traces that must be refused; FuzzParse seeds from them too.
var rejectCases = []struct {
	name     string
	csv      string
	opt      Options
	wantErr  error
	wantLine int
	wantText []string // substrings of the message besides "inline.csv:<line>:"
}{
	{"empty file", "", Options{}, ErrEmptyFile, 0, []string{"parsing trace inline.csv: empty file"}},
	{"only blank lines", "\n\r\n\n", Options{}, ErrEmptyFile, 0, nil},
	{"header missing, first row is data", "2015-01-01 00:00:00,3\n2015-01-01 00:05:00,4\n", Options{}, ErrMissingHeader, 1, []string{`"2015-01-01 00:00:00"`}},
	{"header missing, first row is unix data", "1424986973,3\n", Options{}, ErrMissingHeader, 1, []string{`"1424986973"`}},
	{"header missing, value looks like a number", "when,42\n", Options{}, ErrMissingHeader, 1, []string{`"42"`}},
	{"header with an unnamed column", "timestamp,value,\n2016-01-01,1,2\n", Options{}, ErrBadHeader, 1, []string{"column 3 has no name"}},
	{"header names a column twice", "timestamp,value,Value\n", Options{}, ErrBadHeader, 1, []string{`"Value" appears twice`}},
	{"unknown value column", "period,count\n1998-04-30 21:30:00,2\n", Options{Column: "requests"}, ErrUnknownColumn, 1, []string{`"requests"`, "available: period, count"}},
	{"unknown time column", "period,count\n1998-04-30 21:30:00,2\n", Options{TimeColumn: "when"}, ErrUnknownColumn, 1, []string{`"when"`, "available: period, count"}},
	{"no time column", "when,count\n1998-04-30 21:30:00,2\n", Options{}, ErrNoTimeColumn, 1, []string{"when, count", "Options.TimeColumn"}},
	{"only a time column", "timestamp\n2016-01-01\n", Options{}, ErrNoValueColumn, 1, []string{`"timestamp"`}},
	{"several value columns and none chosen", "timestamp_utc,en_requests,distinct_pages\n", Options{}, ErrNoValueColumn, 1, []string{"en_requests, distinct_pages", "Options.Column"}},
	{"value column is the time column", "timestamp,value\n2016-01-01,1\n", Options{Column: "Timestamp"}, ErrBadOptions, 1, []string{`"timestamp" is the time column`}},
	{"header but no rows", "timestamp,value\n", Options{}, ErrNoRows, 1, nil},
	{"header and blank lines but no rows", "timestamp,value\n\n\n", Options{}, ErrNoRows, 1, nil},
	{"row with too few fields", "timestamp,value\n2016-01-01,1\n2016-01-02\n", Options{}, ErrFieldCount, 3, []string{"row has 1, header has 2"}},
	{"row with too many fields", "timestamp,value\n2016-01-01,1,9\n", Options{}, ErrFieldCount, 2, []string{"row has 3, header has 2"}},
	{"unterminated quote", "timestamp,value\n2016-01-01,\"1\n", Options{}, ErrMalformedCSV, 2, nil},
	{"bad month", "timestamp,value\n2016-01-01,1\n2016-13-01,2\n", Options{}, ErrBadTimestamp, 3, []string{`"2016-13-01"`, `column "timestamp"`}},
	{"words for a timestamp", "timestamp,value\nyesterday,1\n", Options{}, ErrBadTimestamp, 2, []string{`"yesterday"`, "want RFC 3339"}},
	{"empty timestamp", "timestamp,value\n,1\n", Options{}, ErrBadTimestamp, 2, []string{`""`}},
	{"negative unix time", "timestamp,value\n-5,1\n", Options{}, ErrBadTimestamp, 2, []string{`"-5"`}},
	{"unix time past year 9999", "timestamp,value\n253402300800000,1\n", Options{}, ErrBadTimestamp, 2, []string{"out of range"}},
	{"bad number", "timestamp,value\n2016-01-01,1\n2016-01-02,12abc\n", Options{}, ErrBadNumber, 3, []string{`"12abc"`, `column "value"`}},
	{"empty value", "timestamp,value\n2016-01-01,\n", Options{}, ErrBadNumber, 2, []string{`""`}},
	{"NaN value", "timestamp,value\n2016-01-01,NaN\n", Options{}, ErrNotFinite, 2, []string{`"NaN"`}},
	{"infinite value", "timestamp,value\n2016-01-01,+Inf\n", Options{}, ErrNotFinite, 2, []string{`"+Inf"`}},
	{"value beyond float64", "timestamp,value\n2016-01-01,1e400\n", Options{}, ErrNotFinite, 2, []string{`"1e400"`}},
	{"negative value", "timestamp,value\n2016-01-01,1\n2016-01-02,-3\n", Options{}, ErrNegative, 3, []string{`"-3"`}},
	{"repeated time", "timestamp,value\n2016-01-01 00:00,1\n2016-01-01 00:00:00,2\n", Options{}, ErrNotIncreasing, 3,
		[]string{`"2016-01-01 00:00:00"`, `"2016-01-01 00:00"`, "2016-01-01T00:00:00Z", "on line 2"}},
	{"time going backwards", "timestamp,value\n2016-01-02,1\n\n2016-01-01,2\n", Options{}, ErrNotIncreasing, 4,
		[]string{`"2016-01-01" (2016-01-01T00:00:00Z) is not after "2016-01-02" (2016-01-02T00:00:00Z) on line 2`}},
	{"same instant in two zones", "timestamp,value\n2016-01-01T02:00:00+02:00,1\n2016-01-01T00:00:00Z,2\n", Options{}, ErrNotIncreasing, 3, nil},
	{"blank lines still count for the line number", "timestamp,value\n\n2016-01-01,1\n\n\nbad,2\n", Options{}, ErrBadTimestamp, 6, nil},
}

func TestParseRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tc.csv), "inline.csv", tc.opt)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", s.Points)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q does not match %q", err, tc.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", err)
			}
			if pe.Source != "inline.csv" || pe.Line != tc.wantLine {
				t.Errorf("error at %s:%d; want inline.csv:%d", pe.Source, pe.Line, tc.wantLine)
			}
			msg := err.Error()
			prefix := "parsing trace inline.csv: "
			if tc.wantLine > 0 {
				prefix = "parsing trace inline.csv:" + strconv.Itoa(tc.wantLine) + ": "
			}
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q does not start with %q", msg, prefix)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestParseRowLimit(t *testing.T) {
	defer func(n int) { maxRows = n }(maxRows)
	maxRows = 3
	head := "timestamp,value\n2016-01-01,1\n2016-01-02,2\n2016-01-03,3\n"
	tests := []struct {
		name    string
		csv     string
		wantErr bool
	}{
		{"exactly the limit is accepted", head, false},
		{"one row over the limit is refused", head + "2016-01-04,4\n", true},
		{"the limit is checked before the row is parsed", head + "garbage\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.csv), "big.csv", Options{})
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyRows) {
				t.Fatalf("error %v; want ErrTooManyRows", err)
			}
			if want := "parsing trace big.csv:5: too many rows: more than 3 rows"; err.Error() != want {
				t.Errorf("message %q; want %q", err, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.csv")
	_, err := Load(path, Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v; want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "opening trace: ") || !strings.Contains(err.Error(), path) {
		t.Errorf("message %q should say it was opening %s", err, path)
	}
}
