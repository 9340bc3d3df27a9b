package command

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// infoSection is one section of INFO's reply.
type infoSection struct {
	name  string // lower-case selector, e.g. "server"
	title string // header, e.g. "Server"
	def   bool   // part of INFO / INFO default
	gen   func(s *Server, c *Ctx, w *infoWriter)
}

// infoSections lists the sections in Redis's output order, with skiff's
// Raft section after Replication.
func infoSections() []infoSection {
	return []infoSection{
		{"server", "Server", true, infoServer},
		{"clients", "Clients", true, infoClients},
		{"memory", "Memory", true, infoMemory},
		{"persistence", "Persistence", true, infoPersistence},
		{"stats", "Stats", true, infoStats},
		{"replication", "Replication", true, infoReplication},
		{"raft", "Raft", true, infoRaft},
		{"cpu", "CPU", true, infoCPU},
		{"modules", "Modules", true, func(*Server, *Ctx, *infoWriter) {}},
		{"commandstats", "Commandstats", false, infoCommandStats},
		{"errorstats", "Errorstats", true, infoErrorStats},
		{"latencystats", "Latencystats", false, infoLatencyStats},
		{"cluster", "Cluster", true, func(_ *Server, _ *Ctx, w *infoWriter) { w.field("cluster_enabled", "0") }},
		{"keyspace", "Keyspace", true, infoKeyspace},
	}
}

// infoWriter accumulates "name:value\r\n" lines.
type infoWriter struct{ b []byte }

func (w *infoWriter) field(name, value string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, ':')
	w.b = append(w.b, value...)
	w.b = append(w.b, '\r', '\n')
}

func (w *infoWriter) int(name string, v int64) { w.field(name, strconv.FormatInt(v, 10)) }

func (w *infoWriter) float(name string, v float64, prec int) {
	w.field(name, strconv.FormatFloat(v, 'f', prec, 64))
}

// cmdInfo is INFO [section ...]. Sections are "# Title" followed by their
// fields, separated by an empty line; unknown sections are ignored. The
// reply is a bulk string (verbatim "txt" in RESP3), as in Redis.
func cmdInfo(c *Ctx) {
	c.W.WriteVerbatim("txt", c.Srv.infoString(c, c.Args[1:]))
}

// infoString renders the selected sections: none selects "default"; "all"
// adds commandstats and latencystats; "everything" is all of them.
func (s *Server) infoString(c *Ctx, args [][]byte) []byte {
	sections := infoSections()
	want := make(map[string]bool)
	all, def := false, len(args) == 0
	for _, a := range args {
		switch name := strings.ToLower(string(a)); name {
		case "all", "everything":
			all = true
		case "default":
			def = true
		default:
			want[name] = true
		}
	}
	w := &infoWriter{}
	n := 0
	for _, sec := range sections {
		if !all && !(def && sec.def) && !want[sec.name] {
			continue
		}
		if n > 0 {
			w.b = append(w.b, '\r', '\n')
		}
		n++
		w.b = append(w.b, "# "...)
		w.b = append(w.b, sec.title...)
		w.b = append(w.b, '\r', '\n')
		sec.gen(s, c, w)
	}
	return w.b
}

// tcpPort returns the RESP port: from the listen address, else the "port"
// parameter.
func (s *Server) tcpPort() (host, port string) {
	if h, p, err := net.SplitHostPort(s.addr); err == nil {
		return h, p
	}
	return s.params.Get("bind"), s.params.Get("port")
}

func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux", "android":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	}
	return "go"
}

func infoServer(s *Server, _ *Ctx, w *infoWriter) {
	now := time.Now()
	up := int64(now.Sub(s.started) / time.Second)
	w.field("redis_version", redisVersion)
	w.field("skiff_version", s.version)
	w.field("redis_git_sha1", "00000000")
	w.field("redis_git_dirty", "0")
	w.field("redis_build_id", "0")
	w.field("redis_mode", "standalone")
	w.field("os", runtime.GOOS+" "+runtime.GOARCH)
	w.int("arch_bits", strconv.IntSize)
	w.field("monotonic_clock", "POSIX clock_gettime")
	w.field("multiplexing_api", multiplexingAPI())
	w.field("atomicvar_api", "go-atomic")
	w.field("gcc_version", "0.0.0")
	w.field("go_version", runtime.Version())
	w.int("process_id", int64(s.pid))
	w.field("process_supervised", "no")
	w.field("run_id", s.runID)
	host, port := s.tcpPort()
	w.field("tcp_port", port)
	w.int("server_time_usec", now.UnixMicro())
	w.int("uptime_in_seconds", up)
	w.int("uptime_in_days", up/86400)
	hz := s.params.Get("hz")
	w.field("hz", hz)
	w.field("configured_hz", hz)
	w.int("lru_clock", now.Unix()&(1<<24-1))
	exe, _ := os.Executable()
	w.field("executable", exe)
	w.field("config_file", "")
	w.field("io_threads_active", "0")
	if host == "" {
		host = "*"
	}
	w.field("listener0", "name=tcp,bind="+host+",port="+port)
}

func infoClients(s *Server, _ *Ctx, w *infoWriter) {
	w.int("connected_clients", int64(s.clients.count()))
	w.field("cluster_connections", "0")
	w.field("maxclients", s.params.Get("maxclients"))
	w.field("client_recent_max_input_buffer", "0")
	w.field("client_recent_max_output_buffer", "0")
	w.int("blocked_clients", s.blk.n.Load())
	w.int("tracking_clients", s.track.n.Load())
	w.field("clients_in_timeout_table", "0")
	w.int("total_blocking_keys", s.blk.nkeys.Load())
	w.field("total_blocking_keys_on_nokey", "0")
}

// bytesToHuman formats n as Redis's INFO does: 100B, 1.50K, 2.00M ...
func bytesToHuman(n uint64) string {
	const k = 1024
	units := []struct {
		limit uint64
		div   float64
		suf   string
	}{
		{k * k, k, "K"}, {k * k * k, k * k, "M"}, {k * k * k * k, k * k * k, "G"},
		{k * k * k * k * k, k * k * k * k, "T"}, {k * k * k * k * k * k, k * k * k * k * k, "P"},
	}
	if n < k {
		return strconv.FormatUint(n, 10) + "B"
	}
	for _, u := range units {
		if n < u.limit {
			return strconv.FormatFloat(float64(n)/u.div, 'f', 2, 64) + u.suf
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}

// totalSystemMemory reads MemTotal from /proc/meminfo (0 where there is none).
func totalSystemMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// infoMemory reports the Go heap as used_memory (runtime.MemStats.HeapAlloc)
// and the memory obtained from the OS as used_memory_rss.
func infoMemory(s *Server, _ *Ctx, w *infoWriter) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := ms.HeapAlloc
	peak := s.fam.peakHeap.Load()
	for used > peak && !s.fam.peakHeap.CompareAndSwap(peak, used) {
		peak = s.fam.peakHeap.Load()
	}
	peak = max(peak, used)
	w.field("used_memory", strconv.FormatUint(used, 10))
	w.field("used_memory_human", bytesToHuman(used))
	w.field("used_memory_rss", strconv.FormatUint(ms.Sys, 10))
	w.field("used_memory_rss_human", bytesToHuman(ms.Sys))
	w.field("used_memory_peak", strconv.FormatUint(peak, 10))
	w.field("used_memory_peak_human", bytesToHuman(peak))
	w.field("used_memory_peak_perc", strconv.FormatFloat(float64(used)*100/float64(max(peak, 1)), 'f', 2, 64)+"%")
	w.field("used_memory_startup", "0")
	w.field("used_memory_dataset", strconv.FormatUint(used, 10))
	tsm := totalSystemMemory()
	w.field("total_system_memory", strconv.FormatUint(tsm, 10))
	w.field("total_system_memory_human", bytesToHuman(tsm))
	w.field("used_memory_lua", "0")
	w.field("used_memory_scripts", "0")
	maxmem, _ := strconv.ParseUint(s.params.Get("maxmemory"), 10, 64)
	w.field("maxmemory", strconv.FormatUint(maxmem, 10))
	w.field("maxmemory_human", bytesToHuman(maxmem))
	w.field("maxmemory_policy", s.params.Get("maxmemory-policy"))
	w.float("mem_fragmentation_ratio", float64(ms.Sys)/float64(max(used, 1)), 2)
	w.field("mem_allocator", "go")
	w.field("active_defrag_running", "0")
	w.field("lazyfree_pending_objects", "0")
	w.field("lazyfreed_objects", "0")
}

func infoPersistence(s *Server, _ *Ctx, w *infoWriter) {
	w.field("loading", "0")
	w.field("async_loading", "0")
	w.int("rdb_changes_since_last_save", max(s.writeCalls()-s.fam.saveBase.Load(), 0))
	w.field("rdb_bgsave_in_progress", "0")
	w.int("rdb_last_save_time", s.lastSave())
	w.field("rdb_last_bgsave_status", "ok")
	w.field("rdb_last_bgsave_time_sec", "-1")
	w.field("rdb_current_bgsave_time_sec", "-1")
	w.field("rdb_saves", "0")
	aof := "0"
	if s.params.Get("appendonly") == "yes" {
		aof = "1"
	}
	w.field("aof_enabled", aof)
	w.field("aof_rewrite_in_progress", "0")
	w.field("aof_rewrite_scheduled", "0")
	w.field("aof_last_rewrite_time_sec", "-1")
	w.field("aof_current_rewrite_time_sec", "-1")
	w.field("aof_last_bgrewrite_status", "ok")
	w.field("aof_rewrites", "0")
	w.field("aof_last_write_status", "ok")
	w.field("module_fork_in_progress", "0")
}

// opsPerSec returns the command rate measured between INFO calls at least
// 100ms apart (Redis samples it every 100ms in its cron; skiff has no cron).
func (s *Server) opsPerSec(now time.Time) int64 {
	o := &s.fam.opsSample
	o.Lock()
	defer o.Unlock()
	cmds := s.stats.commands.Load()
	if o.at.IsZero() {
		o.at, o.commands = s.started, 0
	}
	if d := now.Sub(o.at); d >= 100*time.Millisecond {
		o.rate = int64(float64(cmds-o.commands) / d.Seconds())
		o.at, o.commands = now, cmds
	}
	return o.rate
}

func infoStats(s *Server, _ *Ctx, w *infoWriter) {
	st := &s.stats
	w.int("total_connections_received", st.connections.Load())
	w.int("total_commands_processed", st.commands.Load())
	w.int("instantaneous_ops_per_sec", s.opsPerSec(time.Now()))
	w.int("total_net_input_bytes", st.netInput.Load())
	w.int("total_net_output_bytes", st.netOutput.Load())
	w.field("instantaneous_input_kbps", "0.00")
	w.field("instantaneous_output_kbps", "0.00")
	w.int("rejected_connections", st.rejectedConns.Load())
	w.field("sync_full", "0")
	w.field("sync_partial_ok", "0")
	w.field("sync_partial_err", "0")
	w.field("expired_keys", "0")
	w.field("expired_stale_perc", "0.00")
	w.field("expired_time_cap_reached_count", "0")
	w.field("evicted_keys", "0")
	w.field("evicted_clients", "0")
	w.int("keyspace_hits", st.keyspaceHits.Load())
	w.int("keyspace_misses", st.keyspaceMiss.Load())
	w.field("pubsub_channels", "0")
	w.field("pubsub_patterns", "0")
	w.field("pubsubshard_channels", "0")
	w.field("latest_fork_usec", "0")
	w.field("total_forks", "0")
	w.field("migrate_cached_sockets", "0")
	w.field("tracking_total_keys", "0")
	w.field("tracking_total_items", "0")
	w.field("tracking_total_prefixes", "0")
	w.field("unexpected_error_replies", "0")
	w.int("total_error_replies", st.errorReplies.Load())
	w.field("dump_payload_sanitizations", "0")
	w.field("client_query_buffer_limit_disconnections", "0")
	w.field("client_output_buffer_limit_disconnections", "0")
	denied := "0"
	for _, e := range s.fam.errors.snapshot() {
		if e[0] == "WRONGPASS" {
			denied = e[1]
		}
	}
	w.field("acl_access_denied_auth", denied)
	w.field("acl_access_denied_cmd", "0")
	w.field("acl_access_denied_key", "0")
	w.field("acl_access_denied_channel", "0")
}

func infoReplication(s *Server, _ *Ctx, w *infoWriter) {
	if s.cluster == nil {
		w.field("role", "master")
		w.field("connected_slaves", "0")
	} else {
		st := s.cluster.Status()
		leaderRESP := ""
		if st.State == "Leader" {
			w.field("role", "master")
			w.field("connected_slaves", strconv.Itoa(max(len(st.Members)-1, 0)))
			leaderRESP = s.addr
		} else {
			host, port, state := s.leaderRESP(st)
			w.field("role", "slave")
			w.field("master_host", host)
			w.field("master_port", strconv.Itoa(port))
			link := "down"
			if state == "connected" {
				link = "up"
			}
			w.field("master_link_status", link)
			if state == "connected" {
				leaderRESP = net.JoinHostPort(host, strconv.Itoa(port))
			}
			w.field("slave_read_only", "1")
		}
		w.field("skiff_node_id", st.NodeID)
		w.field("skiff_raft_state", strings.ToLower(st.State))
		w.field("skiff_raft_addr", st.RaftAddr)
		w.field("skiff_leader_id", st.LeaderID)
		w.field("skiff_leader_raft_addr", st.LeaderRaftAddr)
		w.field("skiff_leader_resp_addr", leaderRESP)
		w.field("skiff_term", strconv.FormatUint(st.Term, 10))
		w.field("skiff_commit_index", strconv.FormatUint(st.CommitIndex, 10))
		w.field("skiff_applied_index", strconv.FormatUint(st.Applied, 10))
		w.field("skiff_last_snapshot_index", strconv.FormatUint(st.LastSnapshot, 10))
		w.field("skiff_members", strconv.Itoa(len(st.Members)))
		for i, m := range st.Members {
			role := "follower"
			if m.Leader {
				role = "leader"
			}
			if !m.Voter {
				role = "nonvoter"
			}
			w.field("skiff_member"+strconv.Itoa(i), "id="+m.ID+",raft_addr="+m.RaftAddr+",role="+role)
		}
	}
	w.field("master_failover_state", "no-failover")
	w.field("master_replid", s.runID)
	w.field("master_replid2", strings.Repeat("0", 40))
	w.field("master_repl_offset", "0")
	w.field("second_repl_offset", "-1")
	w.field("repl_backlog_active", "0")
	w.field("repl_backlog_size", s.params.Get("repl-backlog-size"))
	w.field("repl_backlog_first_byte_offset", "0")
	w.field("repl_backlog_histlen", "0")
}

func infoCPU(_ *Server, _ *Ctx, w *infoWriter) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	w.field("used_cpu_sys", tv(ru.Stime))
	w.field("used_cpu_user", tv(ru.Utime))
	w.field("used_cpu_sys_children", "0.000000")
	w.field("used_cpu_user_children", "0.000000")
}

// infoSafe replaces the characters INFO cannot carry in a field name.
func infoSafe(s string) string {
	return strings.NewReplacer("#", "_", ":", "_", "\n", "_", "\r", "_").Replace(s)
}

// appendCmdStat writes cmd's line when it was called, failed or rejected.
func appendCmdStat(w *infoWriter, cmd *Command) {
	calls, usec := cmd.stats.calls.Load(), cmd.stats.usec.Load()
	failed, rejected := cmd.stats.failed.Load(), cmd.stats.rejected.Load()
	if calls == 0 && failed == 0 && rejected == 0 {
		return
	}
	per := 0.0
	if calls > 0 {
		per = float64(usec) / float64(calls)
	}
	w.field("cmdstat_"+infoSafe(cmd.Name), "calls="+strconv.FormatInt(calls, 10)+
		",usec="+strconv.FormatInt(usec, 10)+
		",usec_per_call="+strconv.FormatFloat(per, 'f', 2, 64)+
		",rejected_calls="+strconv.FormatInt(rejected, 10)+
		",failed_calls="+strconv.FormatInt(failed, 10))
}

func infoCommandStats(s *Server, _ *Ctx, w *infoWriter) {
	for _, cmd := range s.table.All() {
		appendCmdStat(w, cmd)
		for _, sub := range sortedSubcommands(cmd) {
			appendCmdStat(w, sub)
		}
	}
}

// infoLatencyStats writes each timed command's latency percentiles
// (latency-tracking-info-percentiles), as Redis 7: nothing when
// latency-tracking is off.
func infoLatencyStats(s *Server, _ *Ctx, w *infoWriter) {
	if !s.params.intro.tracking.Load() {
		return
	}
	var ps []float64
	if p := s.params.intro.percentiles.Load(); p != nil {
		ps = *p
	}
	for _, cmd := range s.table.All() {
		appendLatencyStat(w, cmd, ps)
		for _, sub := range sortedSubcommands(cmd) {
			appendLatencyStat(w, sub, ps)
		}
	}
}

// infoRaft describes this node's Raft state: raft_enabled:0 without
// replication (unit tests).
func infoRaft(s *Server, _ *Ctx, w *infoWriter) {
	if s.cluster == nil {
		w.field("raft_enabled", "0")
		return
	}
	st := s.cluster.Status()
	u := func(name string, v uint64) { w.field(name, strconv.FormatUint(v, 10)) }
	w.field("raft_enabled", "1")
	w.field("raft_node_id", st.NodeID)
	w.field("raft_addr", st.RaftAddr)
	w.field("raft_state", strings.ToLower(st.State))
	u("raft_term", st.Term)
	w.field("raft_leader_id", st.LeaderID)
	w.field("raft_leader_addr", st.LeaderRaftAddr)
	u("raft_commit_index", st.CommitIndex)
	u("raft_applied_index", st.Applied)
	u("raft_log_applied_index", st.LogApplied)
	u("raft_last_log_index", st.LastIndex)
	u("raft_last_snapshot_index", st.LastSnapshot)
	voters := 0
	for _, m := range st.Members {
		if m.Voter {
			voters++
		}
	}
	w.int("raft_members", int64(len(st.Members)))
	w.int("raft_voters", int64(voters))
	for i, m := range st.Members {
		w.field("raft_member"+strconv.Itoa(i), "id="+m.ID+",addr="+m.RaftAddr+
			",voter="+strconv.Itoa(int(b2i(m.Voter)))+",leader="+strconv.Itoa(int(b2i(m.Leader)))+
			",self="+strconv.Itoa(int(b2i(m.Self))))
	}
}

func infoErrorStats(s *Server, _ *Ctx, w *infoWriter) {
	for _, e := range s.fam.errors.snapshot() {
		w.field("errorstat_"+infoSafe(e[0]), "count="+e[1])
	}
}

func infoKeyspace(_ *Server, c *Ctx, w *infoWriter) {
	for _, ks := range c.Store().Keyspace(c.Now()) {
		w.field("db"+strconv.Itoa(ks.DB), "keys="+strconv.FormatInt(ks.Keys, 10)+
			",expires="+strconv.FormatInt(ks.Expires, 10)+
			",avg_ttl="+strconv.FormatInt(ks.AvgTTL, 10))
	}
}

// resetStats clears what CONFIG RESETSTAT clears: every command's counters,
// the server counters and the error counts.
func (s *Server) resetStats() {
	for _, cmd := range s.table.All() {
		cmd.stats.reset()
		for _, sub := range cmd.Subcommands {
			sub.stats.reset()
		}
	}
	st := &s.stats
	for _, v := range []interface{ Store(int64) }{
		&st.connections, &st.commands, &st.rejectedConns, &st.keyspaceHits,
		&st.keyspaceMiss, &st.netInput, &st.netOutput, &st.errorReplies,
	} {
		v.Store(0)
	}
	s.fam.errors.reset()
	s.fam.peakHeap.Store(0)
	s.fam.saveBase.Store(0)
}

func (st *cmdStats) reset() {
	st.calls.Store(0)
	st.usec.Store(0)
	st.failed.Store(0)
	st.rejected.Store(0)
	st.hist.Store(nil)
}
