package srsemu

import (
	"fmt"
	"net/http"
	"strings"
)

// serveExporter answers GET /metrics with the series SRS 7.0.18's exporter sends, in its
// order, with its HELP texts, and no pod label: Prometheus adds that when it scrapes.
func (s *Server) serveExporter(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	now := s.cfg.Now()
	sent, recv := s.countersLocked(now)
	streams := map[string]bool{}
	for _, c := range s.clients {
		streams[c.Stream] = true
	}
	clients, total, errs := len(s.clients), s.total, s.errs
	s.mu.Unlock()

	var b strings.Builder
	metric := func(name, help, typ, labels string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %.15g\n", name, help, name, typ, name, labels, v)
	}
	metric("srs_node_uname_info", "Labeled system information as provided by the uname system call.", "gauge",
		`{sysname="Linux",nodename="`+s.ids.server+`",release="6.1.0",version="#1 SMP",machine="x86_64"}`, 1)
	metric("srs_build_info", "A metric with a constant '1' value labeled by build_date, version from which SRS was built.", "gauge",
		fmt.Sprintf(`{server=%q,service=%q,pid=%q,build_date="2026-01-01 00:00:00",major="%d",version=%q,code="Hang",label=%q,tag=%q}`,
			s.ids.server, s.ids.service, s.ids.pid, versionMajor, versionString, s.cfg.Label, s.cfg.Tag), 1)
	metric("srs_cpu_percent", "SRS cpu used percent.", "gauge", "", 0)
	metric("srs_memory", "SRS memory used.", "gauge", "", memKbyte)
	metric("srs_send_bytes_total", "SRS total sent bytes.", "counter", "", float64(int64(sent)))
	metric("srs_receive_bytes_total", "SRS total received bytes.", "counter", "", float64(int64(recv)))
	metric("srs_streams", "The number of SRS concurrent streams.", "gauge", "", float64(len(streams)))
	metric("srs_clients", "The number of SRS concurrent clients.", "gauge", "", float64(clients))
	metric("srs_clients_total", "The total counts of SRS clients.", "counter", "", float64(total))
	metric("srs_clients_errs_total", "The total errors of SRS clients.", "counter", "", float64(errs))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
