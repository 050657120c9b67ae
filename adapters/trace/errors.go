package trace

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by ParseError, one per kind of rejection.
var (
	ErrEmptyFile     = errors.New("empty file")
	ErrMissingHeader = errors.New("missing header")
	ErrBadHeader     = errors.New("bad header")
	ErrUnknownColumn = errors.New("unknown column")
	ErrNoTimeColumn  = errors.New("no time column")
	ErrNoValueColumn = errors.New("no value column")
	ErrMalformedCSV  = errors.New("malformed csv")
	ErrFieldCount    = errors.New("wrong number of fields")
	ErrBadTimestamp  = errors.New("bad timestamp")
	ErrBadNumber     = errors.New("bad number")
	ErrNotFinite     = errors.New("value is not finite")
	ErrNegative      = errors.New("negative value")
	ErrNotIncreasing = errors.New("time not strictly increasing")
	ErrNoRows        = errors.New("no data rows")
	ErrTooManyRows   = errors.New("too many rows")
	ErrBadOptions    = errors.New("bad options")
)

// ParseError reports why a trace was rejected and where.
type ParseError struct {
	// Source is the file path or name given to Load or Parse.
	Source string
	// Line is the 1-based line in the input; 0 when the problem concerns the
	// whole input (an empty file).
	Line int
	// Err wraps one of the Err* sentinels with the details.
	Err error
}

func (e *ParseError) Error() string {
	src := e.Source
	if src == "" {
		src = "(unnamed)"
	}
	if e.Line > 0 {
		return fmt.Sprintf("parsing trace %s:%d: %v", src, e.Line, e.Err)
	}
	return fmt.Sprintf("parsing trace %s: %v", src, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }
