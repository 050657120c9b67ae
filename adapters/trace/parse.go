package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// MaxRows bounds the work one trace may cause; 5M rows is over nine years of
// one-minute samples.
const MaxRows = 5_000_000

// maxRows is MaxRows except in tests, which lower it to exercise the limit.
var maxRows = MaxRows

// timeHeaders are the header names (case-insensitive) taken as the time
// column when Options.TimeColumn is empty.
var timeHeaders = []string{"time", "timestamp", "timestamp_utc", "period", "date", "ts"}

// Options says which columns to read and how to place zoneless timestamps.
type Options struct {
	// Column is the value column's header name (case-insensitive). Required
	// unless the file has exactly one column besides the time column.
	Column string
	// TimeColumn is the time column's header name (case-insensitive). Empty
	// means the first column named time, timestamp, timestamp_utc, period,
	// date or ts.
	TimeColumn string
	// Location places timestamps that carry no zone, and is the location of
	// every returned Point.Time. Nil means UTC.
	Location *time.Location
}

// Load reads the CSV trace at path; see Parse.
func Load(path string, opt Options) (*Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening trace: %w", err)
	}
	defer f.Close()
	return Parse(f, path, opt)
}

// Parse reads a CSV trace: a header row, then one row per sample with a
// timestamp and a finite, non-negative value, times strictly increasing.
// Accepted timestamps are RFC 3339 (with or without fraction), unix seconds
// (integer or decimal; numbers above 1e11 are unix milliseconds), and
// "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04" or
// "2006-01-02" in opt.Location. Source names the input in errors and in the
// result. Any rejection is a *ParseError.
func Parse(r io.Reader, source string, opt Options) (*Series, error) {
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	fail := func(line int, err error) (*Series, error) {
		return nil, &ParseError{Source: source, Line: line, Err: err}
	}

	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to say which row and how many
	cr.ReuseRecord = true

	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fail(0, ErrEmptyFile)
	}
	if err != nil {
		return fail(csvErrorLine(err, 1), fmt.Errorf("%w: %w", ErrMalformedCSV, err))
	}
	headerLine, _ := cr.FieldPos(0)
	header := cleanHeader(rec)
	ti, vi, err := pickColumns(header, opt, loc)
	if err != nil {
		return fail(headerLine, err)
	}

	s := &Series{Source: source, Column: header[vi]}
	tp := timeParser{loc: loc}
	prevLine := 0
	var prevRaw string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(csvErrorLine(err, prevLine+1), fmt.Errorf("%w: %w", ErrMalformedCSV, err))
		}
		line, _ := cr.FieldPos(0)
		if len(s.Points) >= maxRows {
			return fail(line, fmt.Errorf("%w: more than %d rows", ErrTooManyRows, maxRows))
		}
		if len(rec) != len(header) {
			return fail(line, fmt.Errorf("%w: row has %d, header has %d", ErrFieldCount, len(rec), len(header)))
		}
		rawT := strings.TrimSpace(rec[ti])
		t, err := tp.parse(rawT)
		if err != nil {
			return fail(line, fmt.Errorf("%w %q in column %q: %w", ErrBadTimestamp, rawT, header[ti], err))
		}
		rawV := strings.TrimSpace(rec[vi])
		v, err := parseValue(rawV)
		if err != nil {
			return fail(line, fmt.Errorf("%w in column %q", err, header[vi]))
		}
		if n := len(s.Points); n > 0 && !t.After(s.Points[n-1].Time) {
			prev := s.Points[n-1].Time
			return fail(line, fmt.Errorf("%w: %q (%s) is not after %q (%s) on line %d",
				ErrNotIncreasing, rawT, t.Format(time.RFC3339Nano), prevRaw, prev.Format(time.RFC3339Nano), prevLine))
		}
		s.Points = append(s.Points, Point{Time: t, Value: v})
		prevRaw, prevLine = rawT, line
	}
	if len(s.Points) == 0 {
		return fail(headerLine, fmt.Errorf("%w below the header", ErrNoRows))
	}
	return s, nil
}

// cleanHeader copies the header (the reader reuses its slice) with spaces
// and a UTF-8 byte order mark removed.
func cleanHeader(rec []string) []string {
	h := make([]string, len(rec))
	for i, f := range rec {
		if i == 0 {
			f = strings.TrimPrefix(f, "\uFEFF")
		}
		h[i] = strings.TrimSpace(f)
	}
	return h
}

// pickColumns validates the header and finds the time and value columns.
func pickColumns(header []string, opt Options, loc *time.Location) (ti, vi int, err error) {
	tp := timeParser{loc: loc}
	for i, name := range header {
		if name == "" {
			return 0, 0, fmt.Errorf("%w: column %d has no name", ErrBadHeader, i+1)
		}
		if _, err := tp.parse(name); err == nil || isNumber(name) {
			return 0, 0, fmt.Errorf("%w: first row has data (%q), not column names", ErrMissingHeader, name)
		}
		for j := range i {
			if strings.EqualFold(header[j], name) {
				return 0, 0, fmt.Errorf("%w: column %q appears twice", ErrBadHeader, name)
			}
		}
	}
	available := strings.Join(header, ", ")

	ti = -1
	if want := strings.TrimSpace(opt.TimeColumn); want != "" {
		if ti = indexFold(header, want); ti < 0 {
			return 0, 0, fmt.Errorf("%w: time column %q (available: %s)", ErrUnknownColumn, want, available)
		}
	} else {
		for i, name := range header {
			if indexFold(timeHeaders, name) >= 0 {
				ti = i
				break
			}
		}
		if ti < 0 {
			return 0, 0, fmt.Errorf("%w among %s: name it one of %s or set Options.TimeColumn",
				ErrNoTimeColumn, available, strings.Join(timeHeaders, ", "))
		}
	}

	if want := strings.TrimSpace(opt.Column); want != "" {
		if vi = indexFold(header, want); vi < 0 {
			return 0, 0, fmt.Errorf("%w: value column %q (available: %s)", ErrUnknownColumn, want, available)
		}
		if vi == ti {
			return 0, 0, fmt.Errorf("%w: value column %q is the time column", ErrBadOptions, header[vi])
		}
		return ti, vi, nil
	}
	switch len(header) {
	case 1:
		return 0, 0, fmt.Errorf("%w: the only column is the time column %q", ErrNoValueColumn, header[ti])
	case 2:
		return ti, 1 - ti, nil
	}
	others := make([]string, 0, len(header)-1)
	for i, name := range header {
		if i != ti {
			others = append(others, name)
		}
	}
	return 0, 0, fmt.Errorf("%w chosen: set Options.Column to one of %s", ErrNoValueColumn, strings.Join(others, ", "))
}

func indexFold(names []string, want string) int {
	for i, n := range names {
		if strings.EqualFold(n, want) {
			return i
		}
	}
	return -1
}

// isNumber reports whether s is a number as written in data, which a column
// name is not; ParseFloat alone would also take names like "inf" or "NaN".
func isNumber(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	c := strings.TrimLeft(s, "+-.")
	return c != "" && c[0] >= '0' && c[0] <= '9'
}

// parseValue reads one sample value, which must be finite and not negative.
func parseValue(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0):
		return 0, fmt.Errorf("%w: %q is beyond float64", ErrNotFinite, s)
	case err != nil:
		return 0, fmt.Errorf("%w %q", ErrBadNumber, s)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%w: %q", ErrNotFinite, s)
	case v < 0:
		return 0, fmt.Errorf("%w %q", ErrNegative, s)
	}
	return v + 0, nil // + 0 turns -0 into 0
}

// csvErrorLine is the line encoding/csv blames, or fallback.
func csvErrorLine(err error, fallback int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.Line > 0 {
		return pe.Line
	}
	return fallback
}
