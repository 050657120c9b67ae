// Package podhttp is the HTTP client for talking to pods directly at their IPs, shared by
// the srs source and evictor and the httphook evictor. It never goes through a proxy from
// the environment (pod IPs are rarely in NO_PROXY), never follows a redirect (a pod must
// not send the controller elsewhere), bounds each request in time and each answer in
// size. It owns no wire format and never imports autoscaler.
package podhttp
