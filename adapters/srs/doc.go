// Package srs reads per-pod samples from each pod's SRS HTTP API and kicks the clients
// left on a tombstoned pod. It owns the SRS wire format (/api/v1/summaries,
// /api/v1/streams/, /api/v1/clients/ and DELETE /api/v1/clients/{id}), its paging and
// its error codes; it never imports autoscaler, which it satisfies implicitly
// (MetricsSource with Source, Evictor with Evictor).
//
// What the samples mean:
//   - bandwidth: the sum over streams of kbps.recv_30s+kbps.send_30s, times 1000 (bit/s,
//     in plus out). SRS adds each connection's bytes to exactly one stream, so the sum
//     is this server's own media traffic averaged over 30 s, from a single read.
//   - pushStreams, pullStreams: clients with publish true, and the rest (players).
//   - cpu: 100 × summaries data.self.cpu_percent. SRS computes that from /proc/self/stat
//     as CPU seconds per second, so this is the SRS process's CPU in percent of ONE core,
//     not of the pod's CPU request: a pod requesting 2 cores that is fully busy reads
//     200, and one requesting 500m reads at most about 50 before it is saturated.
//   - memory: 100 × data.self.mem_percent, which SRS computes as ru_maxrss / MemTotal:
//     the PEAK resident set of the process in percent of the HOST's RAM (the node's
//     /proc/meminfo, not the container limit). It never falls while the process lives,
//     so memory alone never lets a fleet shrink.
//   - packetsPerSecond and custom/<name>: SRS does not report them; they stay missing.
//
// A pod whose API cannot be read, answers a non-zero code, bad JSON, a body over
// MaxBody, or a negative or non-finite number has no samples at all (never zeros); the
// reason is logged at V(1).
package srs
