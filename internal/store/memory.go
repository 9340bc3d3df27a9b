package store

// memSampleKeys is how many keys per database MemoryBytes measures.
const memSampleKeys = 64

// MemoryBytes estimates the bytes the keyspace holds, for metrics
// (skiff_store_memory_bytes): MEMORY STATS's numbers summed over the
// databases (memusage.go), that is each database's hash table and expiry
// heap plus its keys and values estimated from a sample of memSampleKeys
// keys (the first in table order, which a seeded hash makes effectively
// random) and DefaultMemorySamples elements of each collection.
//
// It is an estimate of what the keyspace references, not an accounting of
// the process: the Go runtime's overhead, garbage not yet collected, the
// parts of applied log entries a value does not use, snapshots in progress
// and the Raft log are not in it (the process heap is the Go collector's
// go_memstats_heap_inuse_bytes). Nothing is counted on the write path; a
// call costs a few microseconds under the read lock per non-empty
// database. Safe for concurrent use.
func (s *Store) MemoryBytes() int64 {
	var total int64
	for _, m := range s.MemoryStats(memSampleKeys) {
		total += m.MainOverhead + m.ExpiresOverhead + m.EstimatedKeyBytes
	}
	return total
}
