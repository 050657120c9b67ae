package srs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRecordedResponses(t *testing.T) {
	t.Run("summaries of SRS 7: self ratios become percentages", func(t *testing.T) {
		s, err := parseSummaries(recorded(t, "summaries.json"))
		if err != nil {
			t.Fatal(err)
		}
		// cpu_percent 0.44 and mem_percent 0.02 (196608 / 8388608 kB, printed with two decimals as SRS does) in the file.
		if s.cpu == nil || *s.cpu != 44 || s.memory == nil || *s.memory != 2 {
			t.Fatalf("cpu %v memory %v", deref(s.cpu), deref(s.memory))
		}
	})
	t.Run("streams of SRS 7: one rate per stream, no total", func(t *testing.T) {
		p, err := parseStreams(recorded(t, "streams.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := page[stream]{items: []stream{{"vid-2r7o3b1", 2560 + 7680}, {"vid-5k0w1q8", 1536 + 1536}, {"vid-9a4j6h3", 12}}, total: -1}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("got %+v, want %+v", p, want)
		}
	})
	t.Run("streams of SRS 3: integer ids, a negative publisher cid is not a reading", func(t *testing.T) {
		p, err := parseStreams(recorded(t, "streams_v3.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := page[stream]{items: []stream{{"13451", 503 + 498}, {"13460", 0}}, total: -1}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("got %+v, want %+v", p, want)
		}
	})
	t.Run("clients of SRS 7: the publish flag picks the publishers", func(t *testing.T) {
		p, err := parseClients(recorded(t, "clients.json"))
		if err != nil {
			t.Fatal(err)
		}
		var pubs, players []string
		for _, c := range p.items {
			if c.publisher {
				pubs = append(pubs, c.id)
			} else {
				players = append(players, c.id)
			}
		}
		if p.total != -1 || !reflect.DeepEqual(pubs, []string{"1f3a9k2d", "c8v2n5t0"}) || len(players) != 5 {
			t.Fatalf("total %d publishers %v players %v", p.total, pubs, players)
		}
	})
	t.Run("clients of SRS 3: integer ids", func(t *testing.T) {
		p, err := parseClients(recorded(t, "clients_v3.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := page[client]{items: []client{{"107", true}, {"426", false}}, total: -1}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("got %+v, want %+v", p, want)
		}
	})
	t.Run("kick answers", func(t *testing.T) {
		for file, want := range map[string]int64{"kick_ok.json": 0, "kick_not_found.json": codeClientNotFound, "errors.json": 100} {
			if code, err := parseCode(recorded(t, file)); err != nil || code != want {
				t.Errorf("%s: code %d, err %v; want %d", file, code, err, want)
			}
		}
	})
	t.Run("a real SRS 7.0.18: one publisher, two players, 385+787 kbps, ratios printed with two decimals", func(t *testing.T) {
		sum, err := parseSummaries(recorded(t, "real-7.0.18/summaries.json"))
		if err != nil || sum.cpu == nil || *sum.cpu != 0 || sum.memory == nil || *sum.memory != 0 {
			t.Fatalf("summaries: cpu %v memory %v, %v; want 0 and 0 (0.00 in the file)", deref(sum.cpu), deref(sum.memory), err)
		}
		streams, err := parseStreams(recorded(t, "real-7.0.18/streams.json"))
		if want := (page[stream]{items: []stream{{"vid-387u441", 385 + 787}}, total: -1}); err != nil || !reflect.DeepEqual(streams, want) {
			t.Fatalf("streams: got %+v, %v; want %+v", streams, err, want)
		}
		clients, err := parseClients(recorded(t, "real-7.0.18/clients.json"))
		want := page[client]{items: []client{{"052bpp10", true}, {"90g9x39y", false}, {"9141r09h", false}}, total: -1}
		if err != nil || !reflect.DeepEqual(clients, want) {
			t.Fatalf("clients: got %+v, %v; want %+v", clients, err, want)
		}
		for file, want := range map[string]int64{"real-7.0.18/kick_ok.json": 0, "real-7.0.18/kick_not_found.json": codeClientNotFound} {
			if code, err := parseCode(recorded(t, file)); err != nil || code != want {
				t.Errorf("%s: code %d, err %v; want %d", file, code, err, want)
			}
		}
	})
	t.Run("an error code is an error for every list", func(t *testing.T) {
		body := recorded(t, "errors.json")
		_, e1 := parseSummaries(body)
		_, e2 := parseStreams(body)
		_, e3 := parseClients(body)
		for _, err := range []error{e1, e2, e3} {
			if !errors.Is(err, ErrCode) || !strings.Contains(err.Error(), "100") {
				t.Errorf("got %v, want ErrCode 100", err)
			}
		}
	})
}

func TestParseRejects(t *testing.T) {
	summaries := string(recorded(t, "summaries.json"))
	streams := string(recorded(t, "streams.json"))
	clients := string(recorded(t, "clients.json"))
	cases := []struct {
		name, body string
		parse      func([]byte) error
		want       error
	}{
		{"not JSON", "<html>502 Bad Gateway</html>", summariesErr, ErrBadResponse},
		{"no code", `{"data":{"self":{"cpu_percent":0.1}}}`, summariesErr, ErrBadResponse},
		{"code as a string", `{"code":"0","data":{}}`, summariesErr, ErrBadResponse},
		{"summaries without data", `{"code":0}`, summariesErr, ErrBadResponse},
		{"negative cpu", strings.Replace(summaries, `"cpu_percent": 0.44`, `"cpu_percent": -0.44`, 1), summariesErr, ErrBadResponse},
		{"memory that overflows in percent", strings.Replace(summaries, `"mem_percent": 0.02`, `"mem_percent": 1e307`, 1), summariesErr, ErrBadResponse},
		{"a number beyond float64", strings.Replace(summaries, `"cpu_percent": 0.44`, `"cpu_percent": 1e400`, 1), summariesErr, ErrBadResponse},
		{"NaN", strings.Replace(summaries, `"cpu_percent": 0.44`, `"cpu_percent": NaN`, 1), summariesErr, ErrBadResponse},
		{"negative kbps", strings.Replace(streams, `"recv_30s": 2560`, `"recv_30s": -2560`, 1), streamsErr, ErrBadResponse},
		{"stream without kbps", `{"code":0,"streams":[{"id":"a"}]}`, streamsErr, ErrBadResponse},
		{"stream with half a kbps", `{"code":0,"streams":[{"id":"a","kbps":{"recv_30s":1}}]}`, streamsErr, ErrBadResponse},
		{"kbps that overflow when added", `{"code":0,"streams":[{"id":"a","kbps":{"recv_30s":1.7e308,"send_30s":1.7e308}}]}`, streamsErr, ErrBadResponse},
		{"no streams key", `{"code":0}`, streamsErr, ErrBadResponse},
		{"negative total", strings.Replace(clients, `"code": 0,`, `"code": 0, "total": -7,`, 1), clientsErr, ErrBadResponse},
		{"client without id", `{"code":0,"clients":[{"publish":true}]}`, clientsErr, ErrBadResponse},
		{"client id that is an object", `{"code":0,"clients":[{"id":{"x":1},"publish":true}]}`, clientsErr, ErrBadResponse},
		{"client neither publisher nor player", `{"code":0,"clients":[{"id":"a"}]}`, clientsErr, ErrBadResponse},
		{"clients as an object", `{"code":0,"clients":{"a":1}}`, clientsErr, ErrBadResponse},
		{"trailing garbage", clients + "}", clientsErr, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.parse([]byte(tc.body)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("a server not done sampling has no cpu or memory yet, and that is no error", func(t *testing.T) {
		s, err := parseSummaries([]byte(strings.Replace(summaries, `"ok": true`, `"ok": false`, 1)))
		if err != nil || s.cpu != nil || s.memory != nil {
			t.Fatalf("got %+v, %v", s, err)
		}
	})
	t.Run("a publisher told by its type when the flag is absent", func(t *testing.T) {
		p, err := parseClients([]byte(`{"code":0,"clients":[{"id":"a","type":"srt-publish"},{"id":"b","type":"Play"}]}`))
		if err != nil || !p.items[0].publisher || p.items[1].publisher {
			t.Fatalf("got %+v, %v", p, err)
		}
	})
}

func summariesErr(b []byte) error { _, err := parseSummaries(b); return err }
func streamsErr(b []byte) error   { _, err := parseStreams(b); return err }
func clientsErr(b []byte) error   { _, err := parseClients(b); return err }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
