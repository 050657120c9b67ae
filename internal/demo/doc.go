// Package demo runs streamscaler live on a local cluster: the real controller binary
// drives a real CloneSet (kruise-manager) whose pods kwok runs with loopback IPs, each
// pod serves an emulated SRS (srsemu) to the players of a trace (players), and the
// result is scored beside the simulator's reactive run on the same trace, seed and
// profile.
//
// It is a tool, not part of the controller: it may import autoscaler/simulate for the
// comparison and the session model. Everything it starts listens on 127.0.0.0/8 only,
// and every loop is bounded by the replayed trace's length.
package demo
