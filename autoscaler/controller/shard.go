package controller

import (
	"fmt"
	"hash/fnv"
)

// Shard is the part of the policies one controller acts on, for fleets larger than one
// process can serve: policies are split by the CloneSet they name (namespace/name, FNV-1a
// modulo Count), so that every policy on one CloneSet, and the one-policy-per-CloneSet
// rule between them, stays with one shard. Each shard elects its own leader (LeaseName).
// The zero value is one shard that owns everything.
type Shard struct {
	Index, Count int
}

// Validate says what is wrong with a shard's flags.
func (s Shard) Validate() error {
	if s.Count < 0 || s.Count > 1 && (s.Index < 0 || s.Index >= s.Count) || s.Count <= 1 && s.Index != 0 {
		return fmt.Errorf("shard %d of %d: want a shard count of at least 1 and an index from 0 to count-1", s.Index, s.Count)
	}
	return nil
}

// Owns reports whether this shard acts on the policies naming the CloneSet
// namespace/name.
func (s Shard) Owns(namespace, cloneSet string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(namespace + "/" + cloneSet))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

// LeaseName is the leader election lease of the shard: base for a single shard, so that
// an unsharded controller keeps its lease, else one per shard.
func (s Shard) LeaseName(base string) string {
	if s.Count <= 1 {
		return base
	}
	return fmt.Sprintf("shard-%d-of-%d.%s", s.Index, s.Count, base)
}
