// Package srsemu emulates the parts of an SRS 7.0.18 media server that streamscaler
// reads and acts on, one emulated server per demo pod: the HTTP API on ip:1985
// (versions, summaries, streams, clients with paging, and the kick) and the Prometheus
// exporter on ip:9972. The answers have the field names, JSON types, nesting and
// quirks of the real server's, recorded in testdata/srs/real-7.0.18: numbers that are
// not integers carry two decimals, lists send no total and raise a count below 10 to
// 10, kbps.recv_30s/send_30s stay 0 for a client's first 30 s, srs_clients counts
// publishers too, and an unknown id answers code 2049 with HTTP 200.
//
// It carries no media. Its clients are records (id, stream, publisher or player,
// bitrate, start) that the demo adds and removes; their byte counters grow with their
// bitrates on an injectable clock, so rates read from the API or the exporter mean
// something. It listens on 127.0.0.0/8 only. It imports nothing of streamscaler.
package srsemu
