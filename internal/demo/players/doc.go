// Package players is the demo's audience: it replays the client sessions that
// autoscaler/simulate draws for a demand trace against a live fleet of emulated SRS
// servers, one Tick at a time, with the time passed in. It owns the counting rules the
// demo reports (started, ended, rejected, evicted, lost), and the refusals per pod a
// dispatcher would report to the autoscaler (Refused), and talks to the servers only
// through Server, so a fake serves its tests and internal/demo/srsemu the demo. It
// imports no Kubernetes: the caller says which pods exist and which are eligible.
package players
