package main

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
)

// A clean stop logs no error. Two reports of controller-runtime and client-go are the
// stop itself, not a fault:
//
//   - controller-runtime v0.25's manager, once its stop sequence is engaged, logs what
//     reaches its error channel as an error. Its leader elector sends leaderLostAtStop
//     there whenever it stops, and the manager stops it last (after releasing the lease,
//     with LeaderElectionReleaseOnCancel). Whether the line appears depends on whether
//     the process exits first (kubernetes-sigs/controller-runtime#3535).
//   - client-go's leader elector logs "Error retrieving lease lock" with
//     context.Canceled when the stop cancels its request in flight.
//
// A lease really lost while running does not take the first path: the manager's Start
// returns "leader election lost" and the command fails with it. A canceled request is
// an error before the stop is asked, and only after it an info line. The sink asks the
// stop's context itself at each record: its error is set before anything the stop sets
// off can run, where a flag set by context.AfterFunc's own goroutine could still be
// unset when the leader elector, canceled a moment later, logs (a CI run saw that).
const (
	stopEngagedMessage = "error received after stop sequence was engaged"
	leaderLostAtStop   = "leader election lost"
)

// stopSink passes every record to the sink it wraps, except the reports of the stop
// itself, which become info records.
type stopSink struct {
	logr.LogSink
	stop context.Context
}

// withStopSink wraps l's sink in a stopSink that counts the stop as asked once stop is
// done.
func withStopSink(l logr.Logger, stop context.Context) logr.Logger {
	s := l.GetSink()
	if s == nil {
		return l
	}
	return logr.New(stopSink{LogSink: s, stop: stop})
}

// stopping says whether the stop was asked.
func (s stopSink) stopping() bool { return s.stop.Err() != nil }

// Init passes the runtime information on one frame deeper: the wrapper is a frame
// between the caller and the wrapped sink.
func (s stopSink) Init(info logr.RuntimeInfo) {
	info.CallDepth++
	s.LogSink.Init(info)
}

// Info is defined, not promoted, so that every record passes exactly the one frame Init
// counts.
func (s stopSink) Info(level int, msg string, keysAndValues ...any) {
	s.LogSink.Info(level, msg, keysAndValues...)
}

func (s stopSink) Error(err error, msg string, keysAndValues ...any) {
	switch {
	case msg == stopEngagedMessage && err != nil && err.Error() == leaderLostAtStop:
		s.LogSink.Info(0, "Leader election stopped with the manager, as asked (not a lost lease)", keysAndValues...)
	case s.stopping() && errors.Is(err, context.Canceled):
		s.LogSink.Info(0, msg+": cut short by the stop", append(append([]any{}, keysAndValues...), "error", err.Error())...)
	default:
		s.LogSink.Error(err, msg, keysAndValues...)
	}
}

func (s stopSink) WithValues(keysAndValues ...any) logr.LogSink {
	return stopSink{LogSink: s.LogSink.WithValues(keysAndValues...), stop: s.stop}
}

func (s stopSink) WithName(name string) logr.LogSink {
	return stopSink{LogSink: s.LogSink.WithName(name), stop: s.stop}
}

// WithCallDepth keeps caller annotations right when the wrapped sink supports them.
func (s stopSink) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.LogSink.(logr.CallDepthLogSink); ok {
		return stopSink{LogSink: cd.WithCallDepth(depth), stop: s.stop}
	}
	return s
}
