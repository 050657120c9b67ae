// Package statemachine owns the business state of one media-server pod (an
// SRS/RTC server carrying live streams): which states a pod can be in, which
// events move it between them, and the guards that must hold for a move.
//
// The transitions live in one declarative github.com/looplab/fsm table; the
// Mermaid drawing in testdata/statemachine/states.mmd, Events and the tests
// all derive from it, so the table is the only place to change the machine.
//
// The package is pure: it never calls time.Now (time arrives in Input.Now)
// and does no I/O. It must not import Kubernetes, autoscaler or predictor
// packages; callers persist State and EnteredAt (a pod label and an
// annotation) and bring them back with Restore.
package statemachine
