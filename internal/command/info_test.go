package command

import (
	"regexp"
	"strings"
	"testing"
)

// srvInfo runs INFO with args and returns its sections: title -> fields.
// It fails unless the payload has Redis's layout: "# Title\r\n" then
// "name:value\r\n" lines, sections separated by one empty line.
func srvInfo(t *testing.T, sc *srvConn, args ...string) (titles []string, fields map[string]map[string]string) {
	t.Helper()
	body := srvBulk(t, sc.exec(append([]string{"INFO"}, args...)...))
	fields = make(map[string]map[string]string)
	if body == "" {
		return nil, fields
	}
	if !strings.HasSuffix(body, "\r\n") || strings.HasSuffix(body, "\r\n\r\n") {
		t.Fatalf("INFO payload must end with exactly one CRLF: %q", body)
	}
	for _, sec := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n\r\n") {
		lines := strings.Split(sec, "\r\n")
		if !strings.HasPrefix(lines[0], "# ") {
			t.Fatalf("section does not start with a title: %q", sec)
		}
		title := lines[0][2:]
		titles = append(titles, title)
		fields[title] = make(map[string]string)
		for _, l := range lines[1:] {
			name, val, ok := strings.Cut(l, ":")
			if !ok || name == "" || strings.ContainsAny(val, "\r\n") {
				t.Fatalf("bad INFO line %q in %s", l, title)
			}
			fields[title][name] = val
		}
	}
	return titles, fields
}

func TestInfo_SectionSelection(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	def := "Server Clients Memory Persistence Stats Replication Raft CPU Modules Errorstats Cluster Keyspace"
	all := "Server Clients Memory Persistence Stats Replication Raft CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, def},
		{srvA("default"), def},
		{srvA("all"), all},
		{srvA("everything"), all},
		{srvA("KEYSPACE", "server"), "Server Keyspace"},
		{srvA("commandstats"), "Commandstats"},
		{srvA("cluster", "cluster"), "Cluster"},
		{srvA("nosuch"), ""},
		{srvA("default", "commandstats"), "Server Clients Memory Persistence Stats Replication Raft CPU Modules Commandstats Errorstats Cluster Keyspace"},
		{srvA("latencystats", "raft"), "Raft Latencystats"},
	} {
		titles, _ := srvInfo(t, sc, tc.args...)
		if got := strings.Join(titles, " "); got != tc.want {
			t.Errorf("INFO %q sections %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := sc.exec("INFO", "nosuch"); got != "$0\r\n\r\n" {
		t.Errorf("INFO nosuch = %q", got)
	}
	if got := sc.exec("INFO", "cluster"); got != "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n" {
		t.Errorf("INFO cluster = %q", got)
	}
	sc.exec("HELLO", "3")
	if got := sc.exec("INFO", "cluster"); got != "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n" {
		t.Errorf("RESP3 INFO cluster = %q", got)
	}
}

func TestInfo_Fields(t *testing.T) {
	s := srvNew(t, map[string]string{"maxmemory": "1mb"})
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvDial(t, s, "127.0.0.1:5002")
	srvRun(t, sc, []srvCase{
		{srvA("SET", "a", "1"), "+OK\r\n"},
		{srvA("SET", "b", "2", "EX", "100"), "+OK\r\n"},
		{srvA("GET", "a"), "$1\r\n1\r\n"},
		{srvA("GET", "zz"), "$-1\r\n"},
		{srvA("SELECT", "2"), "+OK\r\n"},
		{srvA("SET", "c", "3"), "+OK\r\n"},
		{srvA("NOSUCH"), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
		{srvA("INCR", "c", "x"), "-ERR wrong number of arguments for 'incr' command\r\n"},
		{srvA("NOSUCH2", "c"), "-ERR unknown command 'NOSUCH2', with args beginning with: 'c' \r\n"},
		{srvA("AUTH", "default", "x"), "+OK\r\n"},
		{srvA("AUTH", "bob", "x"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
	})
	_, f := srvInfo(t, sc, "everything")
	exact := map[string]map[string]string{
		"Server": {"redis_version": "7.2.4", "skiff_version": "9.9.9-test", "redis_mode": "standalone",
			"tcp_port": "6399", "run_id": s.runID, "hz": "10", "listener0": "name=tcp,bind=127.0.0.1,port=6399"},
		"Clients":     {"connected_clients": "2", "maxclients": "10000", "blocked_clients": "0"},
		"Memory":      {"maxmemory": "1048576", "maxmemory_human": "1.00M", "maxmemory_policy": "noeviction", "mem_allocator": "go"},
		"Persistence": {"loading": "0", "aof_enabled": "0", "rdb_changes_since_last_save": "3"},
		"Stats": {"total_connections_received": "2", "keyspace_hits": "1", "keyspace_misses": "1",
			"total_error_replies": "4", "acl_access_denied_auth": "1"},
		"Replication": {"role": "master", "connected_slaves": "0", "master_repl_offset": "0"},
		"Keyspace":    {"db2": "keys=1,expires=0,avg_ttl=0"},
		"Errorstats":  {"errorstat_ERR": "count=3", "errorstat_WRONGPASS": "count=1"},
		"Cluster":     {"cluster_enabled": "0"},
	}
	for sec, want := range exact {
		for name, v := range want {
			if got, ok := f[sec][name]; !ok || got != v {
				t.Errorf("%s %s = %q (present %v), want %q", sec, name, got, ok, v)
			}
		}
	}
	if ks := f["Keyspace"]["db0"]; !regexp.MustCompile(`^keys=2,expires=1,avg_ttl=\d+$`).MatchString(ks) {
		t.Errorf("db0 = %q", ks)
	}
	for sec, names := range map[string][]string{
		"Server": {"process_id", "uptime_in_seconds", "uptime_in_days", "server_time_usec", "arch_bits", "os", "multiplexing_api", "executable", "config_file"},
		"Memory": {"used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "used_memory_peak_human"},
		"Stats":  {"total_commands_processed", "instantaneous_ops_per_sec", "expired_keys", "total_net_input_bytes"},
		"CPU":    {"used_cpu_sys", "used_cpu_user"},
	} {
		for _, n := range names {
			if _, ok := f[sec][n]; !ok {
				t.Errorf("%s lacks %s", sec, n)
			}
		}
	}
	stat := regexp.MustCompile(`^calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=(\d+),failed_calls=(\d+)$`)
	for name, want := range map[string][3]string{
		"cmdstat_set":  {"3", "0", "0"},
		"cmdstat_get":  {"2", "0", "0"},
		"cmdstat_incr": {"0", "1", "0"},
		"cmdstat_auth": {"2", "0", "1"},
	} {
		m := stat.FindStringSubmatch(f["Commandstats"][name])
		if m == nil || m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
			t.Errorf("%s = %q, want calls/rejected/failed %v", name, f["Commandstats"][name], want)
		}
	}
	if _, ok := f["Commandstats"]["cmdstat_ttl"]; ok {
		t.Error("a command never called is listed in commandstats")
	}
	// Subcommands are reported as container|sub.
	sc.exec("CLIENT", "ID")
	_, f = srvInfo(t, sc, "commandstats")
	if m := stat.FindStringSubmatch(f["Commandstats"]["cmdstat_client|id"]); m == nil || m[1] != "1" {
		t.Errorf("cmdstat_client|id = %q", f["Commandstats"]["cmdstat_client|id"])
	}
}

func TestInfo_BytesToHuman(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0B", 1023: "1023B", 1024: "1.00K", 1536: "1.50K", 1 << 20: "1.00M",
		3 << 30: "3.00G", 1 << 40: "1.00T", 5 << 50: "5.00P",
	} {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", n, got, want)
		}
	}
}
