package controller

import (
	"fmt"
	"testing"
)

// TestShard: every CloneSet belongs to exactly one of the shards, the split is even enough
// to be worth it, bad flags are refused, and a single shard keeps the unsharded lease.
func TestShard(t *testing.T) {
	const count = 4
	per := make([]int, count)
	for i := range 1000 {
		owners := 0
		for s := range count {
			if (Shard{Index: s, Count: count}).Owns("live", fmt.Sprintf("edge-%d", i)) {
				owners++
				per[s]++
			}
		}
		if owners != 1 {
			t.Fatalf("CloneSet live/edge-%d has %d owners, want 1", i, owners)
		}
	}
	for s, n := range per {
		if n < 200 || n > 300 {
			t.Errorf("shard %d owns %d of 1000 CloneSets, want about 250: %v", s, n, per)
		}
	}
	if !(Shard{}).Owns("any", "thing") {
		t.Error("the zero shard must own everything")
	}
	for _, bad := range []Shard{{Index: 2, Count: 2}, {Index: -1, Count: 2}, {Index: 1, Count: 1}, {Index: 0, Count: -1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	for _, good := range []Shard{{}, {Index: 0, Count: 1}, {Index: 1, Count: 2}} {
		if err := good.Validate(); err != nil {
			t.Errorf("%+v refused: %v", good, err)
		}
	}
	if got := (Shard{Count: 1}).LeaseName("streamscaler.streamscaler.io"); got != "streamscaler.streamscaler.io" {
		t.Errorf("one shard's lease %q, want the unsharded one", got)
	}
	if a, b := (Shard{Index: 0, Count: 2}).LeaseName("x"), (Shard{Index: 1, Count: 2}).LeaseName("x"); a == b {
		t.Errorf("two shards share the lease %q", a)
	}
}
