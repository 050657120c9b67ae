// Package trace reads recorded traffic traces (a time column and one or more
// value columns in CSV) into a Series the simulator can replay.
//
// It owns the CSV format rules: which headers name the time column, which
// timestamp spellings are accepted, and what makes a row invalid (bad or
// non-finite numbers, negative values, time that does not strictly increase).
// Every rejection is a *ParseError naming the file and line, wrapping one of
// the Err* sentinels so callers can match it with errors.Is.
//
// It is an I/O adapter: it must not import anything under
// github.com/streamscaler/streamscaler/autoscaler, statemachine or predictor,
// and it never calls time.Now.
package trace
