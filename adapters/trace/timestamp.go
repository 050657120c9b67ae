package trace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// layouts are tried in order; only RFC 3339 carries its own zone, the others
// are read in Options.Location.
var layouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true}, // also accepts RFC 3339 without fraction
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04:05", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", false},
}

const (
	// unixMillisAbove is where a bare number stops being unix seconds and
	// starts being unix milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
	unixMillisAbove = 100_000_000_000
	// maxUnixMillis is 9999-12-31T23:59:59.999Z, the last instant the
	// textual formats can express too.
	maxUnixMillis = 253_402_300_799_999
)

var errTimeFormat = errors.New(`want RFC 3339, unix seconds or milliseconds, or "2006-01-02[ 15:04[:05]]"`)

// timeParser remembers which layout matched last, because a trace almost
// always uses one format throughout and trying it first keeps big files fast.
type timeParser struct {
	loc  *time.Location
	last int // index into layouts of the last match
}

// parse reads one timestamp; the result is always in p.loc.
func (p *timeParser) parse(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if isUnsignedDecimal(s) {
		return parseUnix(s, p.loc)
	}
	if t, ok := p.try(p.last, s); ok {
		return t, nil
	}
	for i := range layouts {
		if i == p.last {
			continue
		}
		if t, ok := p.try(i, s); ok {
			p.last = i
			return t, nil
		}
	}
	return time.Time{}, p.explain(s)
}

// explain says why s failed: the parser's own reason ("month out of range")
// when s has the shape of one of the zoneless layouts, the accepted formats
// otherwise.
func (p *timeParser) explain(s string) error {
	for _, l := range layouts {
		if l.zoned || len(l.layout) != len(s) {
			continue
		}
		_, err := time.ParseInLocation(l.layout, s, p.loc)
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			return fmt.Errorf("%s; %w", strings.TrimPrefix(pe.Message, ": "), errTimeFormat)
		}
	}
	return errTimeFormat
}

func (p *timeParser) try(i int, s string) (time.Time, bool) {
	l := layouts[i]
	if l.zoned {
		t, err := time.Parse(l.layout, s)
		return t.In(p.loc), err == nil
	}
	t, err := time.ParseInLocation(l.layout, s, p.loc)
	return t, err == nil
}

// isUnsignedDecimal reports whether s is digits with at most one '.' that is
// followed by at least one digit.
func isUnsignedDecimal(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) {
		return false
	}
	return !hasDot || (frac != "" && allDigits(frac))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseUnix reads unix seconds, or unix milliseconds when the number is
// above 1e11, without going through float64 so no precision is lost.
func parseUnix(s string, loc *time.Location) (time.Time, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	outOfRange := errors.New("unix time out of range")
	if len(intPart) > len(strconv.Itoa(maxUnixMillis)) {
		return time.Time{}, outOfRange
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, outOfRange
	}
	millis := n > unixMillisAbove || (n == unixMillisAbove && strings.Trim(frac, "0") != "")
	if !millis {
		return time.Unix(n, fracNanos(frac, 9)).In(loc), nil
	}
	if n > maxUnixMillis {
		return time.Time{}, outOfRange
	}
	nsec := (n%1000)*int64(time.Millisecond) + fracNanos(frac, 6)
	return time.Unix(n/1000, nsec).In(loc), nil
}

// fracNanos turns the digits after the point into an integer of the given
// number of digits, truncating what is finer than a nanosecond.
func fracNanos(frac string, digits int) int64 {
	if len(frac) > digits {
		frac = frac[:digits]
	}
	var n int64
	for i := 0; i < digits; i++ {
		n *= 10
		if i < len(frac) {
			n += int64(frac[i] - '0')
		}
	}
	return n
}
