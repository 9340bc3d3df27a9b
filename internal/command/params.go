package command

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/skiffdb/skiff/internal/glob"
)

// paramSpec describes one runtime parameter (CONFIG GET/SET), with Redis
// 7.2's name, alias, default, mutability and validation.
type paramSpec struct {
	name      string
	alias     string // Redis's other name for it (hash-max-ziplist-entries ...)
	def       string
	readOnly  bool // CONFIG SET refuses it ("can't set immutable config")
	protected bool // CONFIG SET refuses it ("can't set protected config")
	// check validates and normalizes a new value (to the form CONFIG GET
	// prints); nil accepts anything. Its error text follows Redis's
	// "CONFIG SET failed (possibly related to argument 'x') - ".
	check func(v string) (string, error)
	// merge, when set, replaces check for values that update part of the
	// current value cur (client-output-buffer-limit).
	merge func(v, cur string) (string, error)
}

// normalize validates v for spec given the current value cur.
func (spec *paramSpec) normalize(v, cur string) (string, error) {
	switch {
	case spec.merge != nil:
		return spec.merge(v, cur)
	case spec.check != nil:
		return spec.check(v)
	}
	return v, nil
}

// paramError is a parameter validation error; its text is Redis's.
type paramError string

func (e paramError) Error() string { return string(e) }

// Params holds the runtime parameters. Safe for concurrent use.
//
// Most parameters exist so that clients and test suites that read or set
// them (CONFIG SET hash-max-listpack-entries, save "", appendonly ...) get
// Redis's answers; they change nothing in skiff unless a component reads
// them with Get (requirepass, maxmemory-policy, maxclients, hz ...).
type Params struct {
	names map[string]*paramSpec // every name and alias, lower case
	// notify is notify-keyspace-events parsed for the apply goroutine
	// (notify.go); set with the parameter, under mu.
	notify notifyState
	// intro caches the SLOWLOG/LATENCY thresholds and latency tracking for
	// the command path (slowlog.go); set with the parameters, under mu.
	intro introConfig
	mu    struct {
		sync.RWMutex
		vals map[string]string // by canonical name
	}
}

func newParams(initial map[string]string) (*Params, error) {
	p := &Params{names: make(map[string]*paramSpec)}
	p.mu.vals = make(map[string]string)
	for _, s := range paramSpecs() {
		if p.names[s.name] != nil || (s.alias != "" && p.names[s.alias] != nil) {
			return nil, fmt.Errorf("command: duplicate parameter %s", s.name)
		}
		p.names[s.name] = s
		if s.alias != "" {
			p.names[s.alias] = s
		}
		p.mu.vals[s.name] = s.def
	}
	p.intro.load(p.mu.vals)
	for k, v := range initial {
		spec, ok := p.names[strings.ToLower(k)]
		if !ok {
			return nil, fmt.Errorf("command: unknown parameter %q", k)
		}
		nv, err := spec.normalize(v, p.mu.vals[spec.name])
		if err != nil {
			return nil, fmt.Errorf("command: parameter %s: %w", k, err)
		}
		p.mu.vals[spec.name] = nv
		p.applied(spec, v)
	}
	return p, nil
}

// applied runs after spec was set to raw (as the caller wrote it): the
// parameters that are parsed once, for hot paths, are parsed here.
func (p *Params) applied(spec *paramSpec, raw string) {
	if spec.name == "notify-keyspace-events" {
		p.notify.set(raw)
	}
	p.intro.set(spec.name, p.mu.vals[spec.name]) // the normalized value
}

// Get returns the value of a parameter by name or alias ("" when unknown).
func (p *Params) Get(name string) string {
	spec := p.names[name]
	if spec == nil {
		spec = p.names[strings.ToLower(name)]
		if spec == nil {
			return ""
		}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mu.vals[spec.name]
}

// Match returns name/value pairs of every parameter name and alias matching
// the glob pattern (case-insensitive), sorted by name.
func (p *Params) Match(pattern string) [][2]string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out [][2]string
	for name, spec := range p.names {
		if glob.MatchString(pattern, name, true) {
			out = append(out, [2]string{name, p.mu.vals[spec.name]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// ConfigGet answers CONFIG GET pattern [pattern ...] as Redis 7.2 does: a
// pattern without glob characters is a case-insensitive name reported as the
// caller first spelled it; a glob adds every matching name and alias; each
// name appears once, in pattern order (each glob's matches sorted).
func (p *Params) ConfigGet(patterns []string) [][2]string {
	var out [][2]string
	seen := make(map[string]bool)
	for _, pat := range patterns {
		if !strings.ContainsAny(pat, "[*?") {
			lower := strings.ToLower(pat)
			if seen[lower] {
				continue
			}
			if spec := p.names[lower]; spec != nil {
				seen[lower] = true
				out = append(out, [2]string{pat, p.Get(spec.name)})
			}
			continue
		}
		for _, kv := range p.Match(pat) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				out = append(out, kv)
			}
		}
	}
	return out
}

// Known reports whether name is a parameter or an alias of one.
func (p *Params) Known(name string) bool {
	_, ok := p.names[strings.ToLower(name)]
	return ok
}

// Set validates and sets several parameters atomically: either all are set or
// none (as CONFIG SET with several pairs does). The error text is Redis's,
// with its precedence: the first unknown, immutable, protected or repeated
// name, then the first invalid value.
func (p *Params) Set(pairs [][2]string) error {
	specs := make([]*paramSpec, len(pairs))
	seen := make(map[string]bool, len(pairs))
	for i, kv := range pairs {
		name := strings.ToLower(kv[0])
		spec, ok := p.names[name]
		var err replyError
		switch {
		case !ok:
			err = replyError("ERR Unknown option or number of arguments for CONFIG SET - '" + kv[0] + "'")
		case spec.readOnly:
			err = refused(kv[0], "can't set immutable config")
		case spec.protected:
			err = refused(kv[0], "can't set protected config")
		case seen[name]:
			err = refused(kv[0], "duplicate parameter")
		}
		if err != "" {
			return err
		}
		seen[name] = true
		specs[i] = spec
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	vals := make([]string, len(pairs))
	for i, kv := range pairs {
		v, err := specs[i].normalize(kv[1], p.mu.vals[specs[i].name])
		if err != nil {
			return refused(strings.ToLower(kv[0]), err.Error())
		}
		vals[i] = v
	}
	for i, spec := range specs {
		p.mu.vals[spec.name] = vals[i]
		p.applied(spec, pairs[i][1])
	}
	return nil
}

func refused(name, reason string) replyError {
	return replyError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason)
}

// --- value checks, each with Redis's error text ---

func boolCheck(v string) (string, error) {
	switch {
	case equalFold(v, "yes"):
		return "yes", nil
	case equalFold(v, "no"):
		return "no", nil
	}
	return "", paramError("argument must be 'yes' or 'no'")
}

func enumCheck(values ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, e := range values {
			if equalFold(v, e) {
				return e, nil
			}
		}
		return "", paramError("argument(s) must be one of the following: " + strings.Join(values, ", "))
	}
}

func boundsError(lo, hi int64) error {
	return paramError("argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive")
}

// intCheck accepts a strict integer (Redis's string2ll) in [lo, hi].
func intCheck(lo, hi int64) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := ParseInt([]byte(v))
		if err != nil {
			return "", paramError("argument couldn't be parsed into an integer")
		}
		if n < lo || n > hi {
			return "", boundsError(lo, hi)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// parseMemory parses a memory value as Redis's memtoull: digits with an
// optional unit b, k, kb, m, mb, g, gb (case-insensitive; k = 1000,
// kb = 1024). An empty number is 0, as in Redis.
func parseMemory(v string) (uint64, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := strings.ToLower(v[i:]); u {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	n := uint64(0)
	if i > 0 {
		var err error
		if n, err = strconv.ParseUint(v[:i], 10, 64); err != nil {
			return 0, false
		}
	}
	if n > math.MaxUint64/mul {
		return 0, false
	}
	return n * mul, true
}

// memCheck accepts a memory value in [lo, hi], printed in bytes.
func memCheck(lo, hi int64) func(string) (string, error) {
	return func(v string) (string, error) {
		u, ok := parseMemory(v)
		if !ok {
			return "", paramError("argument must be a memory value")
		}
		n := int64(u) // Redis keeps it in a long long: huge values wrap negative
		if n < lo || n > hi {
			return "", boundsError(lo, hi)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// umemCheck accepts any memory value (unsigned long long parameters).
func umemCheck(v string) (string, error) {
	u, ok := parseMemory(v)
	if !ok {
		return "", paramError("argument must be a memory value")
	}
	return strconv.FormatUint(u, 10), nil
}

// percentMemCheck accepts a memory value or a percentage "N%" up to 100%
// (maxmemory-clients).
func percentMemCheck(v string) (string, error) {
	if u, ok := parseMemory(v); ok {
		if u > math.MaxInt64 {
			return "", boundsError(-100, math.MaxInt64)
		}
		return strconv.FormatUint(u, 10), nil
	}
	if len(v) > 1 && v[len(v)-1] == '%' {
		if n, err := ParseInt([]byte(v[:len(v)-1])); err == nil && n >= 0 {
			if n > 100 {
				return "", paramError("percentage argument must be less or equal to 100")
			}
			return strconv.FormatInt(n, 10) + "%", nil
		}
	}
	return "", paramError("argument must be a memory or percent value")
}

// hzCheck accepts an integer and clamps it to [1, 500] as Redis's updateHZ.
func hzCheck(v string) (string, error) {
	s, err := intCheck(0, math.MaxInt32)(v)
	if err != nil {
		return "", err
	}
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(min(max(n, 1), 500)), nil
}

// splitArgs splits a multi-argument value on single spaces as CONFIG SET
// does ("" is no arguments).
func splitArgs(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}

// cStrtoll parses like C's strtoll(s, &end, 10) with *end required to be
// '\0': optional sign and digits; "" is 0.
func cStrtoll(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	t := s
	if t[0] == '+' || t[0] == '-' {
		t = t[1:]
	}
	if t == "" {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if s[0] == '-' {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	return n, true
}

// saveCheck validates "seconds changes [seconds changes ...]".
func saveCheck(v string) (string, error) {
	args := splitArgs(v)
	if len(args)%2 != 0 {
		return "", paramError("Invalid save parameters")
	}
	out := make([]string, len(args))
	for i, a := range args {
		n, ok := cStrtoll(a)
		if !ok || (i%2 == 0 && n < 1) || (i%2 == 1 && n < 0) {
			return "", paramError("Invalid save parameters")
		}
		out[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(out, " "), nil
}

// Keyspace notification classes, as Redis's notify.c.
const (
	nkKeyspace = 1 << iota
	nkKeyevent
	nkGeneric
	nkString
	nkList
	nkSet
	nkHash
	nkZset
	nkExpired
	nkEvicted
	nkStream
	nkKeyMiss
	nkModule
	nkNew
	nkAll = nkGeneric | nkString | nkList | nkSet | nkHash | nkZset | nkExpired | nkEvicted | nkStream | nkModule
)

// notifyCheck validates notify-keyspace-events' class letters and prints
// them back in Redis's canonical form ("A" for all classes).
func notifyCheck(v string) (string, error) {
	flags, ok := parseNotifyFlags(v) // notify.go
	if !ok {
		return "", paramError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
	}
	var b strings.Builder
	if flags&nkAll == nkAll {
		b.WriteByte('A')
	} else {
		for _, f := range []struct {
			bit int
			ch  byte
		}{
			{nkGeneric, 'g'}, {nkString, '$'}, {nkList, 'l'}, {nkSet, 's'}, {nkHash, 'h'},
			{nkZset, 'z'}, {nkExpired, 'x'}, {nkEvicted, 'e'}, {nkStream, 't'}, {nkModule, 'd'},
			{nkNew, 'n'},
		} {
			if flags&f.bit != 0 {
				b.WriteByte(f.ch)
			}
		}
	}
	if flags&nkKeyspace != 0 {
		b.WriteByte('K')
	}
	if flags&nkKeyevent != 0 {
		b.WriteByte('E')
	}
	if flags&nkKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String(), nil
}

// outputLimitMerge validates client-output-buffer-limit's groups of "class
// hard soft seconds" and returns the whole setting: the groups given replace
// those of the current value cur (classes normal, slave, pubsub).
func outputLimitMerge(v, cur string) (string, error) {
	{
		args := splitArgs(v)
		if len(args)%4 != 0 {
			return "", paramError("Wrong number of arguments in buffer limit configuration.")
		}
		classes := map[string]int{"normal": 0, "slave": 1, "replica": 1, "pubsub": 2}
		for i, a := range args {
			if i%4 == 0 {
				if _, ok := classes[strings.ToLower(a)]; !ok {
					return "", paramError("Invalid client class specified in buffer limit configuration.")
				}
			} else if _, ok := parseMemory(a); !ok {
				return "", paramError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
			}
		}
		var groups [3][3]string
		old := strings.Fields(cur)
		for i := 0; i+3 < len(old); i += 4 {
			if c, ok := classes[old[i]]; ok {
				copy(groups[c][:], old[i+1:i+4])
			}
		}
		for i := 0; i < len(args); i += 4 {
			c := classes[strings.ToLower(args[i])]
			for j := 0; j < 3; j++ {
				n, _ := parseMemory(args[i+1+j])
				groups[c][j] = strconv.FormatUint(n, 10)
			}
		}
		names := [3]string{"normal", "slave", "pubsub"}
		parts := make([]string, 0, 12)
		for c, g := range groups {
			parts = append(parts, names[c], g[0], g[1], g[2])
		}
		return strings.Join(parts, " "), nil
	}
}

// percentilesCheck validates latency-tracking-info-percentiles.
func percentilesCheck(v string) (string, error) {
	args := splitArgs(v)
	out := make([]string, len(args))
	for i, a := range args {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil {
			return "", paramError("Invalid latency-tracking-info-percentiles parameters")
		}
		if f < 0 || f > 100 {
			return "", paramError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		out[i] = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.Join(out, " "), nil
}

// paramSpecs lists every runtime parameter with Redis 7.2's defaults. A few
// differ on purpose: port and bind are immutable (skiff does not rebind a
// running listener) and bind defaults to skiff's 127.0.0.1.
func paramSpecs() []*paramSpec {
	const (
		intMax  = math.MaxInt32
		intMin  = math.MinInt32
		longMax = math.MaxInt64
		uintMax = math.MaxUint32
	)
	var specs []*paramSpec
	add := func(s *paramSpec) *paramSpec { specs = append(specs, s); return s }
	b := func(name, def string) *paramSpec {
		return add(&paramSpec{name: name, def: def, check: boolCheck})
	}
	i := func(name, def string, lo, hi int64) *paramSpec {
		return add(&paramSpec{name: name, def: def, check: intCheck(lo, hi)})
	}
	m := func(name, def string, lo, hi int64) *paramSpec {
		return add(&paramSpec{name: name, def: def, check: memCheck(lo, hi)})
	}
	e := func(name, def string, values ...string) *paramSpec {
		return add(&paramSpec{name: name, def: def, check: enumCheck(values...)})
	}
	s := func(name, def string) *paramSpec { return add(&paramSpec{name: name, def: def}) }
	imm := func(p *paramSpec) { p.readOnly = true }
	alias := func(p *paramSpec, a string) { p.alias = a }

	// Booleans.
	imm(b("rdbchecksum", "yes"))
	imm(b("daemonize", "no"))
	imm(b("io-threads-do-reads", "no"))
	imm(b("always-show-logo", "no"))
	b("protected-mode", "yes")
	b("rdbcompression", "yes")
	b("rdb-del-sync-files", "no")
	b("activerehashing", "yes")
	b("stop-writes-on-bgsave-error", "yes")
	imm(b("set-proc-title", "yes"))
	b("dynamic-hz", "yes")
	b("lazyfree-lazy-eviction", "no")
	b("lazyfree-lazy-expire", "no")
	b("lazyfree-lazy-server-del", "no")
	b("lazyfree-lazy-user-del", "no")
	b("lazyfree-lazy-user-flush", "no")
	b("repl-disable-tcp-nodelay", "no")
	b("repl-diskless-sync", "yes")
	b("aof-rewrite-incremental-fsync", "yes")
	b("no-appendfsync-on-rewrite", "no")
	b("cluster-require-full-coverage", "yes")
	b("rdb-save-incremental-fsync", "yes")
	b("aof-load-truncated", "yes")
	b("aof-use-rdb-preamble", "yes")
	b("aof-timestamp-enabled", "no")
	alias(b("cluster-replica-no-failover", "no"), "cluster-slave-no-failover")
	alias(b("replica-lazy-flush", "no"), "slave-lazy-flush")
	alias(b("replica-serve-stale-data", "yes"), "slave-serve-stale-data")
	alias(b("replica-read-only", "yes"), "slave-read-only")
	alias(b("replica-ignore-maxmemory", "yes"), "slave-ignore-maxmemory")
	b("jemalloc-bg-thread", "yes")
	b("activedefrag", "no")
	imm(b("syslog-enabled", "no"))
	imm(b("cluster-enabled", "no"))
	b("appendonly", "no")
	b("cluster-allow-reads-when-down", "no")
	b("cluster-allow-pubsubshard-when-down", "yes")
	b("crash-log-enabled", "yes")
	b("crash-memcheck-enabled", "yes")
	imm(b("disable-thp", "yes"))
	b("cluster-allow-replica-migration", "yes")
	b("replica-announced", "yes")
	b("latency-tracking", "yes")
	b("aof-disable-auto-gc", "no")
	b("replica-ignore-disk-write-errors", "no")
	b("tls-cluster", "no")
	b("tls-replication", "no")
	b("tls-prefer-server-ciphers", "no")
	b("tls-session-caching", "yes")

	// Strings.
	imm(s("aclfile", ""))
	imm(s("unixsocket", ""))
	imm(s("pidfile", ""))
	alias(s("replica-announce-ip", ""), "slave-announce-ip")
	s("masteruser", "")
	s("cluster-announce-ip", "")
	imm(s("cluster-config-file", "nodes.conf"))
	s("cluster-announce-hostname", "")
	s("cluster-announce-human-nodename", "")
	imm(s("syslog-ident", "redis"))
	s("dbfilename", "dump.rdb").protected = true
	imm(s("appendfilename", "appendonly.aof"))
	imm(s("appenddirname", "appendonlydir"))
	imm(s("server_cpulist", ""))
	imm(s("bio_cpulist", ""))
	imm(s("aof_rewrite_cpulist", ""))
	imm(s("bgsave_cpulist", ""))
	s("ignore-warnings", "")
	s("proc-title-template", "{title} {listen-addr} {server-mode}")
	s("bind-source-addr", "")
	imm(s("logfile", ""))
	s("locale-collate", "")
	s("masterauth", "")
	s("requirepass", "")
	for _, t := range []string{"tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
		"tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file",
		"tls-ca-cert-dir", "tls-protocols", "tls-ciphers", "tls-ciphersuites"} {
		s(t, "")
	}
	dir, _ := os.Getwd()
	s("dir", dir).protected = true
	replicaof := s("replicaof", "")
	imm(replicaof)
	alias(replicaof, "slaveof")
	imm(s("bind", "127.0.0.1"))
	s("oom-score-adj-values", "0 200 800")

	// Enums.
	imm(e("supervised", "no", "upstart", "systemd", "auto", "no"))
	imm(e("syslog-facility", "local0", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"))
	e("repl-diskless-load", "disabled", "disabled", "on-empty-db", "swapdb")
	e("loglevel", "notice", "debug", "verbose", "notice", "warning", "nothing")
	e("maxmemory-policy", "noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")
	e("appendfsync", "everysec", "always", "everysec", "no")
	e("oom-score-adj", "no", "no", "yes", "relative", "absolute")
	e("acl-pubsub-default", "resetchannels", "allchannels", "resetchannels")
	e("sanitize-dump-payload", "no", "no", "yes", "clients")
	imm(e("enable-protected-configs", "no", "no", "yes", "local"))
	imm(e("enable-debug-command", "no", "no", "yes", "local"))
	imm(e("enable-module-command", "no", "no", "yes", "local"))
	e("cluster-preferred-endpoint-type", "ip", "ip", "hostname", "unknown-endpoint")
	e("propagation-error-behavior", "ignore", "ignore", "panic", "panic-on-replicas")
	e("tls-auth-clients", "yes", "no", "yes", "optional")
	e("shutdown-on-sigint", "default", "default", "save", "nosave", "now", "force")
	e("shutdown-on-sigterm", "default", "default", "save", "nosave", "now", "force")

	// Integers.
	imm(i("databases", "16", 1, intMax))
	imm(i("port", "6379", 0, 65535))
	imm(i("io-threads", "1", 1, 128))
	i("auto-aof-rewrite-percentage", "100", 0, intMax)
	alias(i("cluster-replica-validity-factor", "10", 0, intMax), "cluster-slave-validity-factor")
	alias(i("list-max-listpack-size", "-2", intMin, intMax), "list-max-ziplist-size")
	i("tcp-keepalive", "300", 0, intMax)
	i("cluster-migration-barrier", "1", 0, intMax)
	i("active-defrag-cycle-min", "1", 1, 99)
	i("active-defrag-cycle-max", "25", 1, 99)
	i("active-defrag-threshold-lower", "10", 0, 1000)
	i("active-defrag-threshold-upper", "100", 0, 1000)
	i("lfu-log-factor", "10", 0, intMax)
	i("lfu-decay-time", "1", 0, intMax)
	alias(i("replica-priority", "100", 0, intMax), "slave-priority")
	i("repl-diskless-sync-delay", "5", 0, intMax)
	i("maxmemory-samples", "5", 1, intMax)
	i("maxmemory-eviction-tenacity", "10", 0, 100)
	i("timeout", "0", 0, intMax)
	alias(i("replica-announce-port", "0", 0, 65535), "slave-announce-port")
	imm(i("tcp-backlog", "511", 0, intMax))
	imm(i("cluster-port", "0", 0, 65535))
	i("cluster-announce-bus-port", "0", 0, 65535)
	i("cluster-announce-port", "0", 0, 65535)
	i("cluster-announce-tls-port", "0", 0, 65535)
	i("repl-timeout", "60", 1, intMax)
	alias(i("repl-ping-replica-period", "10", 1, intMax), "repl-ping-slave-period")
	i("list-compress-depth", "0", 0, intMax)
	i("active-expire-effort", "1", 1, 10)
	add(&paramSpec{name: "hz", def: "10", check: hzCheck})
	alias(i("min-replicas-to-write", "0", 0, intMax), "min-slaves-to-write")
	alias(i("min-replicas-max-lag", "10", 0, intMax), "min-slaves-max-lag")
	i("shutdown-timeout", "10", 0, intMax)
	i("repl-diskless-sync-max-replicas", "0", 0, intMax)
	i("maxclients", "10000", 1, uintMax)
	imm(i("socket-mark-id", "0", 0, uintMax))
	imm(i("unixsocketperm", "0", 0, 0o777))
	i("active-defrag-max-scan-fields", "1000", 1, longMax)
	i("slowlog-max-len", "128", 0, longMax)
	i("acllog-max-len", "128", 0, longMax)
	alias(i("busy-reply-threshold", "5000", 0, longMax), "lua-time-limit")
	i("cluster-node-timeout", "15000", 0, longMax)
	i("slowlog-log-slower-than", "10000", -1, longMax)
	i("latency-monitor-threshold", "0", 0, longMax)
	i("stream-node-max-entries", "100", 0, longMax)
	alias(i("hash-max-listpack-entries", "512", 0, longMax), "hash-max-ziplist-entries")
	i("set-max-intset-entries", "512", 0, longMax)
	i("set-max-listpack-entries", "128", 0, longMax)
	i("set-max-listpack-value", "64", 0, longMax)
	alias(i("zset-max-listpack-entries", "128", 0, longMax), "zset-max-ziplist-entries")
	i("tracking-table-max-keys", "1000000", 0, longMax)
	i("repl-backlog-ttl", "3600", 0, longMax)
	i("tls-port", "0", 0, 65535)
	i("tls-session-cache-size", "20480", 0, intMax)
	i("tls-session-cache-timeout", "300", 0, intMax)

	// Memory sizes.
	m("proto-max-bulk-len", "536870912", 1<<20, longMax)
	m("repl-backlog-size", "1048576", 1, longMax)
	m("auto-aof-rewrite-min-size", "67108864", 0, longMax)
	m("active-defrag-ignore-bytes", "104857600", 1, longMax)
	alias(m("hash-max-listpack-value", "64", 0, longMax), "hash-max-ziplist-value")
	m("stream-node-max-bytes", "4096", 0, longMax)
	alias(m("zset-max-listpack-value", "64", 0, longMax), "zset-max-ziplist-value")
	m("hll-sparse-max-bytes", "3000", 0, longMax)
	m("client-query-buffer-limit", "1073741824", 1<<20, longMax)
	add(&paramSpec{name: "maxmemory", def: "0", check: umemCheck})
	add(&paramSpec{name: "cluster-link-sendbuf-limit", def: "0", check: umemCheck})
	add(&paramSpec{name: "maxmemory-clients", def: "0", check: percentMemCheck})

	// Multi-argument values.
	add(&paramSpec{name: "save", def: "3600 1 300 100 60 10000", check: saveCheck})
	add(&paramSpec{name: "notify-keyspace-events", def: "", check: notifyCheck})
	add(&paramSpec{name: "latency-tracking-info-percentiles", def: "50 99 99.9", check: percentilesCheck})
	add(&paramSpec{name: "client-output-buffer-limit", def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", merge: outputLimitMerge})
	return specs
}

// setListenAddr makes "bind" and "port" report the address RESP listens on
// (Options.RESPAddr), unless the caller set them explicitly.
func (p *Params) setListenAddr(addr string, explicit map[string]string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, v := range map[string]string{"bind": host, "port": port} {
		if _, ok := explicit[name]; !ok && v != "" {
			p.mu.vals[name] = v
		}
	}
}

func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
