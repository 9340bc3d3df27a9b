package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Version is skiff's release version.
const Version = "0.1.0"

// RedisVersion is the Redis version skiff reports (INFO redis_version,
// HELLO), chosen so clients that gate features on the version accept skiff.
const RedisVersion = "7.2.4"

// Config is every setting of a node. It is filled from defaults, then SKIFF_*
// environment variables, then command-line flags (flags win).
type Config struct {
	RedisAddr   string // RESP listen address
	GRPCAddr    string // gRPC listen address ("" = no gRPC)
	HTTPAddr    string // REST/HTTP listen address ("" = no HTTP)
	DataDir     string
	LogLevel    string // debug, info, warn, error
	LogFormat   string // text, json
	Databases   int
	RequirePass string
	MaxClients  int
	// EnablePprof serves Go's runtime profiles at /debug/pprof/ on the HTTP
	// port (behind requirepass, as the API is).
	EnablePprof bool
	// Procs caps the CPUs the process uses (GOMAXPROCS); 0 = Go's default,
	// every CPU the process may run on. Set by the binary only.
	Procs int

	// Replication.
	NodeID          string // stable member id; default: generated once and kept in the data dir
	RaftAddr        string // Raft peer traffic (RESP port + 10000 by convention)
	Bootstrap       bool   // start a new cluster (the default when neither Join nor InitialCluster is set)
	Join            string // RESP address of any member of the cluster to join
	InitialCluster  string // static bootstrap: "n1=raftaddr,n2=raftaddr,..." (this node's id must be listed)
	Fsync           string // always | everysec
	SnapshotEntries int    // snapshot after this many log entries
	SnapshotMB      int    // ... or after this many MiB of entries
	// RaftTimeout sets heartbeat and election timeouts (lease: half); 0 =
	// Raft's defaults (1s). Tests shorten it; it is not a flag.
	RaftTimeout time.Duration
	// TrailingLogs kept after a snapshot and LogSegmentBytes (0 = defaults);
	// tests shrink them to force snapshot installs. Not flags.
	TrailingLogs    int
	LogSegmentBytes int

	// TracerProvider, when set, is the node's tracer provider instead of
	// the one the OTEL_* environment describes (telemetry.Setup); the node
	// does not shut it down. Tests inject an in-memory exporter here. Not a
	// flag.
	TracerProvider trace.TracerProvider
}

// Peer is one member of InitialCluster.
type Peer struct{ ID, RaftAddr string }

// Peers parses InitialCluster.
func (c Config) Peers() ([]Peer, error) {
	if c.InitialCluster == "" {
		return nil, nil
	}
	var out []Peer
	seen := map[string]bool{}
	for _, part := range strings.Split(c.InitialCluster, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("config: --initial-cluster entry %q: want id=host:port", part)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("config: --initial-cluster entry %q: %w", part, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("config: --initial-cluster names %q twice", id)
		}
		seen[id] = true
		out = append(out, Peer{ID: id, RaftAddr: addr})
	}
	return out, nil
}

// Default returns the defaults: one node, RESP on 127.0.0.1:6379, data in
// ./skiff-data.
func Default() Config {
	return Config{
		RedisAddr:  "127.0.0.1:6379",
		GRPCAddr:   "127.0.0.1:50051",
		HTTPAddr:   "127.0.0.1:8080",
		DataDir:    "./skiff-data",
		LogLevel:   "info",
		LogFormat:  "text",
		Databases:  16,
		MaxClients: 10000,
		RaftAddr:   "127.0.0.1:16379",
		Fsync:      "always",

		SnapshotEntries: 8192,
		SnapshotMB:      64,
	}
}

// ErrHelp is returned by Parse when -h/--help was asked; usage has been
// printed to the output writer.
var ErrHelp = flag.ErrHelp

// setting binds one flag to its environment variable.
type setting struct {
	name, usage string
	str         *string
	num         *int
	flag        *bool
}

func (c *Config) settings() []setting {
	return []setting{
		{name: "redis-addr", usage: "RESP (Redis protocol) listen address", str: &c.RedisAddr},
		{name: "grpc-addr", usage: "gRPC listen address (empty: no gRPC)", str: &c.GRPCAddr},
		{name: "http-addr", usage: "REST/HTTP listen address (empty: no HTTP)", str: &c.HTTPAddr},
		{name: "data-dir", usage: "directory for the node's data", str: &c.DataDir},
		{name: "log-level", usage: "log level: debug, info, warn, error", str: &c.LogLevel},
		{name: "log-format", usage: "log format: text or json", str: &c.LogFormat},
		{name: "databases", usage: "number of databases (SELECT 0..n-1)", num: &c.Databases},
		{name: "requirepass", usage: "password clients must send with AUTH (empty: none)", str: &c.RequirePass},
		{name: "maxclients", usage: "maximum number of connected clients", num: &c.MaxClients},
		{name: "procs", usage: "CPUs to use (GOMAXPROCS); 0 = all available", num: &c.Procs},
		{name: "enable-pprof", usage: "serve Go's runtime profiles at /debug/pprof/ on the HTTP port (behind requirepass)", flag: &c.EnablePprof},
		{name: "node-id", usage: "this member's stable id (default: generated on first start and kept in the data dir)", str: &c.NodeID},
		{name: "raft-addr", usage: "Raft peer address (by convention the RESP port + 10000)", str: &c.RaftAddr},
		{name: "bootstrap", usage: "start a new cluster with this node (the default without --join or --initial-cluster)", flag: &c.Bootstrap},
		{name: "join", usage: "RESP address of any member of an existing cluster to join", str: &c.Join},
		{name: "initial-cluster", usage: "static bootstrap of all members: id=raftaddr,id=raftaddr,...", str: &c.InitialCluster},
		{name: "fsync", usage: "durability: always (acknowledged = on disk on a majority) or everysec (in a majority's memory, on disk within ~1s)", str: &c.Fsync},
		{name: "snapshot-entries", usage: "take a snapshot and compact the log after this many entries", num: &c.SnapshotEntries},
		{name: "snapshot-mb", usage: "also take a snapshot after this many MiB of log entries", num: &c.SnapshotMB},
	}
}

// EnvName returns the environment variable for a flag name:
// "redis-addr" -> "SKIFF_REDIS_ADDR".
func EnvName(flagName string) string {
	return "SKIFF_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse builds a Config from defaults, the environment (lookup, usually
// os.LookupEnv) and args (without the program name). Usage and errors are
// written to out.
func Parse(args []string, lookup func(string) (string, bool), out io.Writer) (Config, error) {
	cfg := Default()
	fs := flag.NewFlagSet("skiff", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "skiff %s: a Redis-compatible, Raft-replicated data store.\n\n", Version)
		fmt.Fprintf(out, "Usage:\n  skiff [server] [flags]   run a node\n  skiff version            print the version\n\nFlags (each also read from the environment variable shown):\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(out, "  --%s (%s, default %q)\n      %s\n", f.Name, EnvName(f.Name), f.DefValue, f.Usage)
		})
	}
	for _, s := range cfg.settings() {
		if v, ok := lookup(EnvName(s.name)); ok {
			switch {
			case s.str != nil:
				*s.str = v
			case s.flag != nil:
				b, err := strconv.ParseBool(v)
				if err != nil {
					return cfg, fmt.Errorf("config: %s=%q: not a boolean", EnvName(s.name), v)
				}
				*s.flag = b
			default:
				n, err := strconv.Atoi(v)
				if err != nil {
					return cfg, fmt.Errorf("config: %s=%q: not an integer", EnvName(s.name), v)
				}
				*s.num = n
			}
		}
	}
	for _, s := range cfg.settings() {
		switch {
		case s.str != nil:
			fs.StringVar(s.str, s.name, *s.str, s.usage)
		case s.flag != nil:
			fs.BoolVar(s.flag, s.name, *s.flag, s.usage)
		default:
			fs.IntVar(s.num, s.name, *s.num, s.usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

// Validate checks that the settings make sense together.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.RedisAddr); err != nil {
		errs = append(errs, fmt.Errorf("config: --redis-addr %q: %w", c.RedisAddr, err))
	}
	for _, a := range []struct{ flag, addr string }{{"grpc-addr", c.GRPCAddr}, {"http-addr", c.HTTPAddr}} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("config: --%s %q: %w", a.flag, a.addr, err))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("config: --data-dir must not be empty"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("config: --log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("config: --log-format %q: want text or json", c.LogFormat))
	}
	if c.Databases < 1 || c.Databases > 1<<16 {
		errs = append(errs, fmt.Errorf("config: --databases %d: want 1..65536", c.Databases))
	}
	if _, _, err := net.SplitHostPort(c.RaftAddr); err != nil {
		errs = append(errs, fmt.Errorf("config: --raft-addr %q: %w", c.RaftAddr, err))
	}
	if c.Fsync != "always" && c.Fsync != "everysec" {
		errs = append(errs, fmt.Errorf("config: --fsync %q: want always or everysec", c.Fsync))
	}
	if c.Join != "" && c.InitialCluster != "" {
		errs = append(errs, errors.New("config: --join and --initial-cluster are alternatives: give one"))
	}
	if c.Join != "" && c.Bootstrap {
		errs = append(errs, errors.New("config: --bootstrap starts a new cluster; --join joins one: give one"))
	}
	if peers, err := c.Peers(); err != nil {
		errs = append(errs, err)
	} else if len(peers) > 0 && c.NodeID != "" {
		found := false
		for _, p := range peers {
			found = found || p.ID == c.NodeID
		}
		if !found {
			errs = append(errs, fmt.Errorf("config: --node-id %q is not in --initial-cluster", c.NodeID))
		}
	} else if len(peers) > 0 && c.NodeID == "" {
		errs = append(errs, errors.New("config: --initial-cluster needs --node-id (this node's id in the list)"))
	}
	if c.SnapshotMB < 1 {
		errs = append(errs, fmt.Errorf("config: --snapshot-mb %d: want at least 1", c.SnapshotMB))
	}
	if c.SnapshotEntries < 1 {
		errs = append(errs, fmt.Errorf("config: --snapshot-entries %d: want at least 1", c.SnapshotEntries))
	}
	if c.Procs < 0 {
		errs = append(errs, fmt.Errorf("config: --procs %d: want 0 (all) or more", c.Procs))
	}
	if c.MaxClients < 1 {
		errs = append(errs, fmt.Errorf("config: --maxclients %d: want at least 1", c.MaxClients))
	}
	return errors.Join(errs...)
}

// BuildVersion returns Version plus the VCS revision when the binary was
// built from a checkout.
func BuildVersion() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// LookupEnv is os.LookupEnv, for Parse.
func LookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
