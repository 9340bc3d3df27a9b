package command

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
)

// observe runs after every executed command (Server.finish): it feeds the
// command's latency histogram (INFO latencystats, LATENCY HISTOGRAM), the
// slow log, the latency monitor and MONITOR. When no threshold is reached
// and nobody monitors it costs a few atomic loads and one atomic add.
//
// A blocking command's duration includes its wait: it is left out of the
// slow log and the latency monitor (Redis counts only the time it ran).
func (s *Server) observe(ctx *Ctx, cmd *Command, start time.Time, d time.Duration) {
	ic := &s.params.intro
	if ic.tracking.Load() {
		cmd.stats.observe(d)
	}
	if int64(d) >= ic.watchFrom.Load() || s.intro.mon.n.Load() != 0 {
		s.observeRare(ctx, cmd, start, d)
	}
}

// observeRare is observe's path for a command that reached a threshold or
// is seen by a monitor.
func (s *Server) observeRare(ctx *Ctx, cmd *Command, start time.Time, d time.Duration) {
	ic := &s.params.intro
	if int64(d) >= ic.watchFrom.Load() && cmd.Flags&Blocking == 0 && !isForwardWrapper(cmd) {
		if int64(d) >= ic.slowerThan.Load() && cmd.Flags&SkipSlowlog == 0 {
			s.logSlow(ctx, cmd, start, d)
		}
		if int64(d) >= ic.latencyMin.Load() {
			event := "command"
			if cmd.Flags&Fast != 0 {
				event = "fast-command"
			}
			s.intro.lat.add(event, int64(d/time.Millisecond), start.Unix())
		}
	}
	if s.intro.mon.n.Load() != 0 {
		s.feedMonitors(ctx, cmd, start)
	}
}

// isForwardWrapper reports whether cmd is SKIFF.FWD, the wrapper of a
// request a follower forwarded: the command inside it was observed on its
// own.
func isForwardWrapper(cmd *Command) bool { return cmd.Name == fwdCommandName }

var fwdCommandName = strings.ToLower(engine.FwdCommand)

// --- per-command latency histograms ---

// cmdHist is a command's latency histogram: log-linear buckets of
// nanoseconds, 8 per power of two (every bucket within 12.5% of its value),
// exact below 16 ns, the last bucket also holding everything from 2^38 ns
// (~4.6 min). Recording is one atomic add; a command's histogram is
// allocated at its first call.
type cmdHist struct {
	b [cmdHistBuckets]atomic.Uint64
}

const (
	cmdHistSubBits = 3
	cmdHistSub     = 1 << cmdHistSubBits
	cmdHistMaxBits = 38 // bit length of the largest value told apart
	cmdHistBuckets = (cmdHistMaxBits-cmdHistSubBits)<<cmdHistSubBits + cmdHistSub
)

// cmdHistBucket returns the bucket of a duration of ns nanoseconds.
func cmdHistBucket(ns uint64) int {
	if ns < 2*cmdHistSub {
		return int(ns)
	}
	s := bits.Len64(ns) - (cmdHistSubBits + 1) // ≥ 1: ns>>s is in [8, 16)
	return min((s+1)<<cmdHistSubBits+int(ns>>s)-cmdHistSub, cmdHistBuckets-1)
}

// cmdHistBounds returns bucket i's range [lo, hi) in nanoseconds.
func cmdHistBounds(i int) (lo, hi uint64) {
	if i < 2*cmdHistSub {
		return uint64(i), uint64(i + 1)
	}
	s := i>>cmdHistSubBits - 1
	m := uint64(i&(cmdHistSub-1) + cmdHistSub)
	return m << s, (m + 1) << s
}

// observe records one call that took d.
func (st *cmdStats) observe(d time.Duration) {
	h := st.hist.Load()
	if h == nil {
		h = st.newHist()
	}
	h.b[cmdHistBucket(uint64(max(d, 0)))].Add(1)
}

// newHist allocates the histogram at a command's first call.
func (st *cmdStats) newHist() *cmdHist {
	h := st.hist.Load()
	for h == nil {
		st.hist.CompareAndSwap(nil, new(cmdHist))
		h = st.hist.Load()
	}
	return h
}

// histSnapshot returns the counts, and their total; nil when the command
// was never timed.
func (st *cmdStats) histSnapshot() (*[cmdHistBuckets]uint64, uint64) {
	h := st.hist.Load()
	if h == nil {
		return nil, 0
	}
	var out [cmdHistBuckets]uint64
	var total uint64
	for i := range h.b {
		out[i] = h.b[i].Load()
		total += out[i]
	}
	return &out, total
}

// histPercentile returns the value at percentile p (0..100) in ns, as
// HdrHistogram's value_at_percentile does: the highest value of the bucket
// holding the ceil(p% · total)-th smallest sample.
func histPercentile(b *[cmdHistBuckets]uint64, total uint64, p float64) uint64 {
	if total == 0 {
		return 0
	}
	want := max(uint64(math.Ceil(p/100*float64(total))), 1)
	var seen uint64
	for i, n := range b {
		seen += n
		if seen >= want {
			_, hi := cmdHistBounds(i)
			return hi - 1
		}
	}
	_, hi := cmdHistBounds(cmdHistBuckets - 1)
	return hi - 1
}

// appendLatencyStat writes cmd's INFO latencystats line when it was timed:
// latency_percentiles_usec_<name>:p50=1.003,p99=...,p99.9=...
func appendLatencyStat(w *infoWriter, cmd *Command, percentiles []float64) {
	b, total := cmd.stats.histSnapshot()
	if b == nil || total == 0 {
		return
	}
	var v []byte
	for i, p := range percentiles {
		if i > 0 {
			v = append(v, ',')
		}
		v = append(v, 'p')
		v = strconv.AppendFloat(v, p, 'f', -1, 64)
		v = append(v, '=')
		v = strconv.AppendFloat(v, float64(histPercentile(b, total, p))/1000, 'f', 3, 64)
	}
	w.field("latency_percentiles_usec_"+infoSafe(cmd.Name), string(v))
}

// latencyHistogramBuckets turns a histogram into LATENCY HISTOGRAM's
// cumulative power-of-two buckets: for bucket k the count of calls up to
// 1024·2^k ns, labelled in microseconds as Redis labels it (HdrHistogram's
// highest equivalent value of 1024·2^k at 2 significant digits: 1, 2, 4, 8,
// 16, 33, 66 ...). Only buckets that add calls are listed.
func latencyHistogramBuckets(b *[cmdHistBuckets]uint64) (labels, counts []int64) {
	var cum uint64
	i := 0
	for k := 0; k < 64 && i < cmdHistBuckets; k++ {
		limit := uint64(1024) << k
		before := cum
		for ; i < cmdHistBuckets; i++ {
			if lo, _ := cmdHistBounds(i); lo >= limit {
				break
			}
			cum += b[i]
		}
		if cum > before {
			labels = append(labels, int64((limit+limit>>7-1)/1000))
			counts = append(counts, int64(cum))
		}
	}
	return labels, counts
}

// --- the latency monitor ---

// latmonLen is the number of samples kept per event (LATENCY_TS_LEN).
const latmonLen = 160

type latmonSample struct {
	time int64 // unix seconds; 0 = unused slot
	ms   int64
}

// latmonSeries is one event's samples, a ring (Redis's latencyTimeSeries).
type latmonSeries struct {
	idx     int // next slot
	max     int64
	samples [latmonLen]latmonSample
}

// last returns the newest sample.
func (ts *latmonSeries) last() latmonSample {
	return ts.samples[(ts.idx+latmonLen-1)%latmonLen]
}

// ordered returns the samples oldest first.
func (ts *latmonSeries) ordered() []latmonSample {
	var out []latmonSample
	for j := 0; j < latmonLen; j++ {
		if s := ts.samples[(ts.idx+j)%latmonLen]; s.time != 0 {
			out = append(out, s)
		}
	}
	return out
}

// latencyMonitor holds the latency events (LATENCY LATEST/HISTORY ...).
// Safe for concurrent use.
type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latmonSeries
}

// add records a latency of ms for event at unix second now, as Redis's
// latencyAddSample: samples in the same second keep the highest.
func (m *latencyMonitor) add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = make(map[string]*latmonSeries)
	}
	ts := m.events[event]
	if ts == nil {
		ts = &latmonSeries{}
		m.events[event] = ts
	}
	ts.max = max(ts.max, ms)
	prev := &ts.samples[(ts.idx+latmonLen-1)%latmonLen]
	if prev.time == now {
		prev.ms = max(prev.ms, ms)
		return
	}
	ts.samples[ts.idx] = latmonSample{time: now, ms: ms}
	ts.idx = (ts.idx + 1) % latmonLen
}

// snapshot returns a copy of every event's series, sorted by name.
func (m *latencyMonitor) snapshot() (names []string, series []latmonSeries) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range m.events {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, n := range names {
		series = append(series, *m.events[n])
	}
	return names, series
}

func (m *latencyMonitor) get(event string) (latmonSeries, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		return latmonSeries{}, false
	}
	return *ts, true
}

// reset drops the named events (all when none is named) and returns how
// many existed.
func (m *latencyMonitor) reset(events []string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(events) == 0 {
		n := int64(len(m.events))
		m.events = nil
		return n
	}
	var n int64
	for _, e := range events {
		if _, ok := m.events[e]; ok {
			delete(m.events, e)
			n++
		}
	}
	return n
}

// --- LATENCY ---

func latencyCommands() []*Command {
	const g = "server"
	sub := func(name string, arity int, f Flags, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "latency|" + name, Arity: arity, Flags: f, Group: g, Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	const adm = Admin | NoScript | Loading | Stale
	return []*Command{
		{Name: "latency", Arity: -2, Group: g, Since: "2.8.13", Summary: "A container for latency diagnostics commands.", Complexity: "Depends on subcommand.", Subcommands: map[string]*Command{
			"latest":    sub("latest", 2, adm, "2.8.13", "Returns the latest latency samples for all events.", "O(1)", cmdLatencyLatest),
			"history":   sub("history", 3, adm, "2.8.13", "Returns timestamp-latency samples for an event.", "O(1)", cmdLatencyHistory),
			"reset":     sub("reset", -2, adm, "2.8.13", "Resets the latency data for one or more events.", "O(1)", cmdLatencyReset),
			"doctor":    sub("doctor", 2, adm, "2.8.13", "Returns a human-readable latency analysis report.", "O(1)", cmdLatencyDoctor),
			"graph":     sub("graph", 3, adm, "2.8.13", "Returns a latency graph for an event.", "O(1)", cmdLatencyGraph),
			"histogram": sub("histogram", -2, adm, "7.0.0", "Returns the cumulative distribution of latencies of a subset or all commands.", "O(N) where N is the number of commands with latency information being retrieved.", cmdLatencyHistogram),
			"help":      sub("help", 2, Loading|Stale, "2.8.13", "Returns helpful text about the different subcommands.", "O(1)", cmdLatencyHelp),
		}},
	}
}

// cmdLatencyLatest answers [event, time, latest ms, all-time max ms] per event.
func cmdLatencyLatest(c *Ctx) {
	names, series := c.Srv.intro.lat.snapshot()
	c.W.WriteArrayLen(len(names))
	for i, name := range names {
		last := series[i].last()
		c.W.WriteArrayLen(4)
		c.W.WriteBulkString(name)
		c.W.WriteInt(last.time)
		c.W.WriteInt(last.ms)
		c.W.WriteInt(series[i].max)
	}
}

// cmdLatencyHistory answers the event's [time, ms] samples, oldest first.
func cmdLatencyHistory(c *Ctx) {
	ts, _ := c.Srv.intro.lat.get(string(c.Args[2]))
	samples := ts.ordered()
	c.W.WriteArrayLen(len(samples))
	for _, s := range samples {
		c.W.WriteArrayLen(2)
		c.W.WriteInt(s.time)
		c.W.WriteInt(s.ms)
	}
}

func cmdLatencyReset(c *Ctx) {
	events := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		events = append(events, string(a))
	}
	c.W.WriteInt(c.Srv.intro.lat.reset(events))
}

// cmdLatencyGraph draws the event's samples as Redis does (a sparkline of
// 4 rows, labelled with how long ago each sample was taken).
func cmdLatencyGraph(c *Ctx) {
	event := string(c.Args[2])
	ts, ok := c.Srv.intro.lat.get(event)
	if !ok {
		c.ErrorString("ERR No samples available for event '" + event + "'")
		return
	}
	c.W.WriteVerbatim("txt", latencyGraph(event, &ts, time.Now().Unix()))
}

// latencyGraph renders Redis's latencyCommandGenSparkeline.
func latencyGraph(event string, ts *latmonSeries, now int64) []byte {
	samples := ts.ordered()
	var lo, hi int64
	labels := make([]string, len(samples))
	for i, s := range samples {
		if i == 0 {
			lo, hi = s.ms, s.ms
		}
		lo, hi = min(lo, s.ms), max(hi, s.ms)
		switch el := now - s.time; {
		case el < 60:
			labels[i] = strconv.FormatInt(el, 10) + "s"
		case el < 3600:
			labels[i] = strconv.FormatInt(el/60, 10) + "m"
		case el < 86400:
			labels[i] = strconv.FormatInt(el/3600, 10) + "h"
		default:
			labels[i] = strconv.FormatInt(el/86400, 10) + "d"
		}
	}
	const cols = 80
	b := []byte(event + " - high " + strconv.FormatInt(hi, 10) + " ms, low " + strconv.FormatInt(lo, 10) +
		" ms (all time high " + strconv.FormatInt(ts.max, 10) + " ms)\n")
	b = append(b, strings.Repeat("-", cols)+"\n"...)
	for j := 0; j < len(samples); j += cols {
		if j != 0 {
			b = append(b, '\n')
		}
		end := min(j+cols, len(samples))
		b = sparkline(b, samples[j:end], labels[j:end], lo, hi)
	}
	return b
}

// sparkline renders samples as Redis's sparklineRenderRange with 4 rows and
// SPARKLINE_FILL, then the labels written downwards after one blank row.
func sparkline(b []byte, samples []latmonSample, labels []string, lo, hi int64) []byte {
	const rows = 4
	const charset = "_o#"
	steps := len(charset) * rows
	relmax := float64(hi - lo)
	if relmax == 0 {
		relmax = 1
	}
	line := make([]byte, len(samples))
	for row := 0; ; row++ {
		more := false
		for j := range line {
			line[j] = ' '
		}
		for j, s := range samples {
			if row < rows {
				more = true
				step := int(float64(s.ms-lo) * float64(steps) / relmax)
				step = min(max(step, 0), steps-1)
				idx := step - (rows-row-1)*len(charset)
				switch {
				case idx >= 0 && idx < len(charset):
					line[j] = charset[idx]
				case idx >= len(charset):
					line[j] = '|'
				}
				continue
			}
			if row-rows < 1 { // one blank row before the labels
				more = true
				break
			}
			if k := row - rows - 1; k < len(labels[j]) {
				more = true
				line[j] = labels[j][k]
			}
		}
		if !more {
			return b
		}
		b = append(b, line...)
		b = append(b, '\n')
	}
}

// cmdLatencyDoctor answers a human-readable report in Redis's voice. It is
// simpler than Redis's: one line per event and general advice.
func cmdLatencyDoctor(c *Ctx) {
	c.W.WriteVerbatim("txt", latencyDoctor(c.Srv, time.Now().Unix()))
}

func latencyDoctor(s *Server, now int64) []byte {
	names, series := s.intro.lat.snapshot()
	if len(names) == 0 {
		if s.params.intro.latencyMs.Load() == 0 {
			return []byte("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
		}
		return []byte("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	}
	b := []byte("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	slowCmds, fastCmds := false, false
	for i, name := range names {
		samples := series[i].ordered()
		var sum, oldest int64
		for _, sm := range samples {
			sum += sm.ms
			if oldest == 0 || sm.time < oldest {
				oldest = sm.time
			}
		}
		n := int64(len(samples))
		avg := sum / max(n, 1)
		var dev int64
		for _, sm := range samples {
			dev += max(avg-sm.ms, sm.ms-avg)
		}
		period := max(now-oldest, 1)
		b = append(b, strconv.Itoa(i+1)+". "+name+": "+strconv.FormatInt(n, 10)+" latency spikes (average "+
			strconv.FormatInt(avg, 10)+"ms, mean deviation "+strconv.FormatInt(dev/max(n, 1), 10)+"ms, period "+
			strconv.FormatFloat(float64(period)/float64(max(n, 1)), 'f', 2, 64)+" sec). Worst all time event "+
			strconv.FormatInt(series[i].max, 10)+"ms.\n"...)
		slowCmds = slowCmds || name == "command"
		fastCmds = fastCmds || name == "fast-command"
	}
	b = append(b, "\nI have a few advices for you:\n\n"...)
	if slowCmds {
		b = append(b, "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"...)
		b = append(b, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"...)
	}
	if fastCmds {
		b = append(b, "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to: 1) Lower the system load. 2) Use a computer / VM just for Redis if you are running other software in the same system. 3) Check if you have a \"noisy neighbour\" problem. 4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system. 5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"...)
	}
	b = append(b, "- In skiff, a write's time includes its replication: check the Raft log's fsync (--fsync, INFO raft).\n"...)
	return b
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: per command,
// {calls, histogram_usec: {bucket: cumulative calls}}; commands never
// called (or unknown) are left out.
func cmdLatencyHistogram(c *Ctx) {
	var cmds []*Command
	t := c.Srv.table
	if len(c.Args) == 2 {
		for _, cmd := range t.All() {
			cmds = append(cmds, cmd)
			cmds = append(cmds, sortedSubcommands(cmd)...)
		}
	} else {
		seen := make(map[*Command]bool)
		for _, a := range c.Args[2:] {
			cmd := t.lookupFull(string(a))
			if cmd == nil {
				continue
			}
			// A container stands for itself and its subcommands, as in Redis.
			for _, x := range append([]*Command{cmd}, sortedSubcommands(cmd)...) {
				if !seen[x] {
					seen[x] = true
					cmds = append(cmds, x)
				}
			}
		}
	}
	type row struct {
		name           string
		calls          uint64
		labels, counts []int64
	}
	var rows []row
	for _, cmd := range cmds {
		b, total := cmd.stats.histSnapshot()
		if b == nil || total == 0 {
			continue
		}
		labels, counts := latencyHistogramBuckets(b)
		rows = append(rows, row{cmd.Name, total, labels, counts})
	}
	c.W.WriteMapLen(len(rows))
	for _, r := range rows {
		c.W.WriteBulkString(r.name)
		c.W.WriteMapLen(2)
		c.W.WriteBulkString("calls")
		c.W.WriteInt(int64(r.calls))
		c.W.WriteBulkString("histogram_usec")
		c.W.WriteMapLen(len(r.labels))
		for i := range r.labels {
			c.W.WriteInt(r.labels[i])
			c.W.WriteInt(r.counts[i])
		}
	}
}

func cmdLatencyHelp(c *Ctx) {
	writeHelp(c, "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.")
}
