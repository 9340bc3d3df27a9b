package command

import (
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"unsafe"

	"github.com/skiffdb/skiff/internal/store"
)

// MEMORY: the store's estimate of a key's bytes (store/memusage.go) and the
// Go heap, in the shape of Redis's replies. skiff's numbers are estimates of
// the Go heap (runtime.MemStats), not of jemalloc's arenas.

func memoryCommands() []*Command {
	const g = "server"
	sub := func(name string, arity int, f Flags, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "memory|" + name, Arity: arity, Flags: f, Group: g, Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	usage := sub("usage", -3, ReadOnly, "4.0.0", "Estimates the memory usage of a key.", "O(N) where N is the number of samples.", cmdMemoryUsage)
	usage.FirstKey, usage.LastKey, usage.Step = 2, 2, 1
	return []*Command{
		{Name: "memory", Arity: -2, Group: g, Since: "4.0.0", Summary: "A container for memory diagnostics commands.", Complexity: "Depends on subcommand.", Subcommands: map[string]*Command{
			"usage":        usage,
			"stats":        sub("stats", 2, 0, "4.0.0", "Returns details about memory usage.", "O(1)", cmdMemoryStats),
			"doctor":       sub("doctor", 2, 0, "4.0.0", "Outputs a memory problems report.", "O(1)", cmdMemoryDoctor),
			"malloc-stats": sub("malloc-stats", 2, 0, "4.0.0", "Returns the allocator statistics.", "Depends on how much memory is allocated, could be slow", cmdMemoryMallocStats),
			"purge":        sub("purge", 2, 0, "4.0.0", "Asks the allocator to release memory.", "Depends on how much memory is allocated, could be slow", cmdMemoryPurge),
			"help":         sub("help", 2, Loading|Stale, "4.0.0", "Returns helpful text about the different subcommands.", "O(1)", cmdMemoryHelp),
		}},
	}
}

// cmdMemoryUsage is MEMORY USAGE key [SAMPLES count]: the key's estimated
// bytes, nil when it is absent. SAMPLES 0 measures every element.
func cmdMemoryUsage(c *Ctx) {
	samples := store.DefaultMemorySamples
	for j := 3; j < len(c.Args); j++ {
		if !c.ArgIs(j, "samples") || j+1 >= len(c.Args) {
			c.SyntaxError()
			return
		}
		n, err := ParseInt(c.Args[j+1])
		if err != nil {
			c.Error(err)
			return
		}
		if n < 0 {
			c.SyntaxError()
			return
		}
		samples = int(min(n, math.MaxInt32)) // 0: all
		j++
	}
	n, ok := c.Store().MemoryUsageSamples(c.DB(), c.Args[2], c.Now(), samples)
	if !ok {
		c.W.WriteNull()
		return
	}
	c.W.WriteInt(n)
}

// memoryStatsSample is how many keys per database MEMORY STATS measures to
// estimate the dataset.
const memoryStatsSample = 1024

// memoryReport is the numbers behind MEMORY STATS and MEMORY DOCTOR.
type memoryReport struct {
	peak, total, startup      int64
	clientsNormal, clients    int64
	dbs                       []store.DBMemory
	overhead, keys, dataset   int64
	allocated, active, resid  int64
	rss                       int64
	bytesPerKey               int64
	datasetPerc, peakPerc     float64
	allocFragRatio, rssRatio  float64
	rssOverRatio, fragRatio   float64
	allocFrag, allocRSS       int64
	rssOverhead, fragOverhead int64
}

// memoryReport reads the Go heap and the store's estimate. It calls
// runtime.ReadMemStats (a short stop-the-world).
func (s *Server) memoryReport() memoryReport {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := memoryReport{total: int64(ms.HeapAlloc)}
	peak := s.fam.peakHeap.Load()
	for ms.HeapAlloc > peak && !s.fam.peakHeap.CompareAndSwap(peak, ms.HeapAlloc) {
		peak = s.fam.peakHeap.Load()
	}
	r.peak = int64(max(peak, ms.HeapAlloc))
	for _, cl := range s.clients.list() {
		r.clients++
		r.clientsNormal += int64(unsafe.Sizeof(Client{}))
		if cl.Conn != nil {
			r.clientsNormal += cl.Conn.Pending()
		}
	}
	r.dbs = s.eng.Store().MemoryStats(memoryStatsSample)
	for _, d := range r.dbs {
		r.keys += d.Keys
		r.dataset += d.EstimatedKeyBytes
	}
	r.dataset = min(r.dataset, r.total)
	r.overhead = r.total - r.dataset
	net := max(r.total-r.startup, 1)
	if r.keys > 0 {
		r.bytesPerKey = net / r.keys
	}
	r.datasetPerc = float64(r.dataset) * 100 / float64(net)
	r.peakPerc = float64(r.total) * 100 / float64(max(r.peak, 1))
	r.allocated, r.active, r.resid = int64(ms.HeapAlloc), int64(ms.HeapInuse), int64(ms.HeapSys-ms.HeapReleased)
	r.rss = int64(ms.Sys) // INFO memory's used_memory_rss
	ratio := func(a, b int64) float64 { return float64(a) / float64(max(b, 1)) }
	r.allocFragRatio, r.allocFrag = ratio(r.active, r.allocated), r.active-r.allocated
	r.rssRatio, r.allocRSS = ratio(r.resid, r.active), r.resid-r.active
	r.rssOverRatio, r.rssOverhead = ratio(r.rss, r.resid), r.rss-r.resid
	r.fragRatio, r.fragOverhead = ratio(r.rss, r.total), r.rss-r.total
	return r
}

// cmdMemoryStats answers Redis 7.0's MEMORY STATS map. The dataset is the
// store's estimate of every key (MEMORY USAGE summed, sampled per
// database); overhead is the rest of the Go heap (connections, the Raft log
// cache, buffers ...). Fields skiff has no counterpart for are 0.
func cmdMemoryStats(c *Ctx) {
	r := c.Srv.memoryReport()
	w := c.W
	w.WriteMapLen(27 + len(r.dbs))
	kv := func(k string, v int64) {
		w.WriteBulkString(k)
		w.WriteInt(v)
	}
	kf := func(k string, v float64) {
		w.WriteBulkString(k)
		w.WriteDouble(v)
	}
	kv("peak.allocated", r.peak)
	kv("total.allocated", r.total)
	kv("startup.allocated", r.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", r.clientsNormal)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for _, d := range r.dbs {
		w.WriteBulkString("db." + strconv.Itoa(d.DB))
		w.WriteMapLen(3)
		kv("overhead.hashtable.main", d.MainOverhead+d.Keys*d.OverheadPerEntry)
		kv("overhead.hashtable.expires", d.ExpiresOverhead)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	kv("overhead.total", r.overhead)
	kv("keys.count", r.keys)
	kv("keys.bytes-per-key", r.bytesPerKey)
	kv("dataset.bytes", r.dataset)
	kf("dataset.percentage", r.datasetPerc)
	kf("peak.percentage", r.peakPerc)
	kv("allocator.allocated", r.allocated)
	kv("allocator.active", r.active)
	kv("allocator.resident", r.resid)
	kf("allocator-fragmentation.ratio", r.allocFragRatio)
	kv("allocator-fragmentation.bytes", r.allocFrag)
	kf("allocator-rss.ratio", r.rssRatio)
	kv("allocator-rss.bytes", r.allocRSS)
	kf("rss-overhead.ratio", r.rssOverRatio)
	kv("rss-overhead.bytes", r.rssOverhead)
	kf("fragmentation", r.fragRatio)
	kv("fragmentation.bytes", r.fragOverhead)
}

// cmdMemoryDoctor answers a report in Redis's voice, on the checks that mean
// something for a Go heap: a small instance, a past peak, big client
// buffers.
func cmdMemoryDoctor(c *Ctx) {
	c.W.WriteVerbatim("txt", []byte(memoryDoctor(c.Srv.memoryReport())))
}

func memoryDoctor(r memoryReport) string {
	if r.total < 5<<20 {
		return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	var issues string
	if float64(r.peak)/float64(r.total) > 1.5 {
		issues += " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The Go runtime returns freed memory to the system gradually; if the Resident Set Size (RSS) is bigger than expected, MEMORY PURGE asks it to do so now.\n\n"
	}
	if r.clients > 0 && (r.clientsNormal-r.clients*int64(unsafe.Sizeof(Client{})))/r.clients > 200<<10 {
		issues += " * Big client buffers: The clients output buffers are in average bigger than 200K. Clients output buffers are controlled by the client-output-buffer-limit pubsub class in skiff: pub/sub subscribers, tracking clients and monitors that do not read their messages fill them.\n\n"
	}
	if issues == "" {
		return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	}
	return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues +
		"I'm here to keep you safe, Sam. I want to help you.\n"
}

func cmdMemoryMallocStats(c *Ctx) {
	c.W.WriteVerbatim("txt", []byte("Stats not supported for the current allocator"))
}

// cmdMemoryPurge returns freed memory to the system (a garbage collection
// first: debug.FreeOSMemory).
func cmdMemoryPurge(c *Ctx) {
	debug.FreeOSMemory()
	c.OK()
}

func cmdMemoryHelp(c *Ctx) {
	writeHelp(c, "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).")
}
