package srs

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Paths of the SRS HTTP API. The list endpoints take ?start=&count=. SRS 4-6 raise a
// count below 10 to 10 (so 10 without one); SRS 7 raises it to 1 (so ONE without one)
// and reports "total". Always ask a count.
const (
	pathSummaries = "/api/v1/summaries"
	pathStreams   = "/api/v1/streams/"
	pathClients   = "/api/v1/clients/"
)

// summary is what the source takes from /api/v1/summaries. A nil field was not reported
// (or not sampled yet) and stays missing.
type summary struct {
	// cpu is 100 × data.self.cpu_percent: percent of one core.
	cpu *float64
	// memory is 100 × data.self.mem_percent: peak RSS in percent of the host's RAM.
	memory *float64
}

// stream is one entry of /api/v1/streams/.
type stream struct {
	id string
	// kbps is kbps.recv_30s + kbps.send_30s.
	kbps float64
}

// client is one entry of /api/v1/clients/.
type client struct {
	id        string
	publisher bool
}

// page is one answer of a list endpoint; total is -1 when SRS did not say.
type page[T any] struct {
	items []T
	total int
}

// apiID is an SRS object id: a string since SRS 4, an integer before.
type apiID string

func (id *apiID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = apiID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id %.40q is neither a string nor a number", b)
	}
	*id = apiID(n.String())
	return nil
}

type kbpsJSON struct {
	Recv *float64 `json:"recv_30s"`
	Send *float64 `json:"send_30s"`
}

type summariesJSON struct {
	Code *int64 `json:"code"`
	Data *struct {
		OK   *bool `json:"ok"`
		Self *struct {
			CPUPercent *float64 `json:"cpu_percent"`
			MemPercent *float64 `json:"mem_percent"`
		} `json:"self"`
	} `json:"data"`
}

type streamsJSON struct {
	Code    *int64 `json:"code"`
	Total   *int64 `json:"total"`
	Streams *[]struct {
		ID   apiID     `json:"id"`
		Kbps *kbpsJSON `json:"kbps"`
	} `json:"streams"`
}

type clientsJSON struct {
	Code    *int64 `json:"code"`
	Total   *int64 `json:"total"`
	Clients *[]struct {
		ID      apiID  `json:"id"`
		Type    string `json:"type"`
		Publish *bool  `json:"publish"`
	} `json:"clients"`
}

// parseSummaries reads an /api/v1/summaries answer. While SRS has not sampled every
// statistic yet (data.ok false) its percentages are zeros, not readings, so they stay
// missing.
func parseSummaries(body []byte) (summary, error) {
	var r summariesJSON
	if err := decode(body, &r); err != nil {
		return summary{}, err
	}
	if err := checkCode(r.Code); err != nil {
		return summary{}, err
	}
	if r.Data == nil {
		return summary{}, fmt.Errorf("%w: no data", ErrBadResponse)
	}
	var s summary
	if (r.Data.OK != nil && !*r.Data.OK) || r.Data.Self == nil {
		return s, nil
	}
	var err error
	if s.cpu, err = percent("data.self.cpu_percent", r.Data.Self.CPUPercent); err != nil {
		return summary{}, err
	}
	if s.memory, err = percent("data.self.mem_percent", r.Data.Self.MemPercent); err != nil {
		return summary{}, err
	}
	return s, nil
}

// parseStreams reads one page of /api/v1/streams/; every stream must carry its id and
// both 30 s rates.
func parseStreams(body []byte) (page[stream], error) {
	var r streamsJSON
	if err := decode(body, &r); err != nil {
		return page[stream]{}, err
	}
	if err := checkCode(r.Code); err != nil {
		return page[stream]{}, err
	}
	if r.Streams == nil {
		return page[stream]{}, fmt.Errorf("%w: no streams", ErrBadResponse)
	}
	total, err := checkTotal(r.Total)
	if err != nil {
		return page[stream]{}, err
	}
	p := page[stream]{items: make([]stream, 0, len(*r.Streams)), total: total}
	for i, s := range *r.Streams {
		if s.ID == "" {
			return page[stream]{}, fmt.Errorf("%w: stream %d has no id", ErrBadResponse, i)
		}
		if s.Kbps == nil || s.Kbps.Recv == nil || s.Kbps.Send == nil {
			return page[stream]{}, fmt.Errorf("%w: stream %s has no kbps", ErrBadResponse, s.ID)
		}
		recv, err := number("kbps.recv_30s", *s.Kbps.Recv)
		if err != nil {
			return page[stream]{}, fmt.Errorf("stream %s: %w", s.ID, err)
		}
		send, err := number("kbps.send_30s", *s.Kbps.Send)
		if err != nil {
			return page[stream]{}, fmt.Errorf("stream %s: %w", s.ID, err)
		}
		kbps, err := number("kbps", recv+send)
		if err != nil {
			return page[stream]{}, fmt.Errorf("stream %s: %w", s.ID, err)
		}
		p.items = append(p.items, stream{id: string(s.ID), kbps: kbps})
	}
	return p, nil
}

// parseClients reads one page of /api/v1/clients/. The publish flag decides who is a
// publisher; without it (never seen in SRS 2-7) the type does ("fmle-publish",
// "rtc-publish", ... against "rtmp-play", "hls-play", "Play", ...).
func parseClients(body []byte) (page[client], error) {
	var r clientsJSON
	if err := decode(body, &r); err != nil {
		return page[client]{}, err
	}
	if err := checkCode(r.Code); err != nil {
		return page[client]{}, err
	}
	if r.Clients == nil {
		return page[client]{}, fmt.Errorf("%w: no clients", ErrBadResponse)
	}
	total, err := checkTotal(r.Total)
	if err != nil {
		return page[client]{}, err
	}
	p := page[client]{items: make([]client, 0, len(*r.Clients)), total: total}
	for i, c := range *r.Clients {
		if c.ID == "" {
			return page[client]{}, fmt.Errorf("%w: client %d has no id", ErrBadResponse, i)
		}
		var publisher bool
		switch {
		case c.Publish != nil:
			publisher = *c.Publish
		case c.Type != "":
			publisher = strings.Contains(strings.ToLower(c.Type), "publish")
		default:
			return page[client]{}, fmt.Errorf("%w: client %s has neither publish nor type", ErrBadResponse, c.ID)
		}
		p.items = append(p.items, client{id: string(c.ID), publisher: publisher})
	}
	return p, nil
}

// parseCode reads the code of an answer that carries nothing else of use (a kick).
func parseCode(body []byte) (int64, error) {
	var r struct {
		Code *int64 `json:"code"`
	}
	if err := decode(body, &r); err != nil {
		return 0, err
	}
	if r.Code == nil {
		return 0, fmt.Errorf("%w: no code", ErrBadResponse)
	}
	return *r.Code, nil
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return nil
}

func checkCode(code *int64) error {
	switch {
	case code == nil:
		return fmt.Errorf("%w: no code", ErrBadResponse)
	case *code != 0:
		return fmt.Errorf("%w %d", ErrCode, *code)
	}
	return nil
}

func checkTotal(total *int64) (int, error) {
	switch {
	case total == nil:
		return -1, nil
	case *total < 0 || *total > math.MaxInt32:
		return 0, fmt.Errorf("%w: total %d", ErrBadResponse, *total)
	}
	return int(*total), nil
}

// number rejects what no reading can be: NaN, infinities and negatives. A negative
// zero becomes zero.
func number(name string, v float64) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%w: %s is %v", ErrBadResponse, name, v)
	}
	if v == 0 {
		return 0, nil
	}
	return v, nil
}

// percent turns an SRS ratio (1 = 100%) into a percentage; nil stays nil.
func percent(name string, ratio *float64) (*float64, error) {
	if ratio == nil {
		return nil, nil
	}
	v, err := number(name, *ratio)
	if err != nil {
		return nil, err
	}
	if v, err = number(name+" in percent", v*100); err != nil {
		return nil, err
	}
	return &v, nil
}
