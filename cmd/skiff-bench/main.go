package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line. Fields are mode-independent; a mode
// reads what applies to it.
type config struct {
	mode           string
	addr           string
	conns          int
	requests       int64
	dataSize       int
	pipeline       int
	tests          []string
	keyspace       int64
	duration       time.Duration
	warmup         int64
	connectTimeout time.Duration
	procs          int // GOMAXPROCS while running; 0 leaves it alone
	jsonOut        bool
	quiet          bool
}

// modes maps -mode to the function building its tests. Read-only.
var modes = map[string]func(*config) ([]benchTest, error){
	"resp": respTests,
	"http": httpTests,
	"grpc": grpcTests,
}

const usageLine = "usage: skiff-bench [-mode resp|http|grpc] [-addr host:port] [-c conns] [-n requests] [-d bytes] [-P depth] [-t tests] [-r keyspace] [-duration d] [-warmup n] [-procs n] [-q | -json]"

// run is the whole program; it returns the exit status: 0 on success, 1 when
// a test fails (cannot connect, I/O or protocol error), 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff-bench: %v\n%s\n", err, usageLine)
		return 2
	}
	tests, err := modes[cfg.mode](cfg)
	if err != nil {
		fmt.Fprintf(stderr, "skiff-bench: %v\n", err)
		return 2
	}
	if cfg.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.procs))
	}
	out := newReporter(cfg, stdout)
	for _, t := range tests {
		res, err := runTest(cfg, t)
		if err != nil {
			fmt.Fprintf(stderr, "skiff-bench: %v\n", err)
			return 1
		}
		if err := out.report(res); err != nil {
			fmt.Fprintf(stderr, "skiff-bench: %v\n", err)
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{connectTimeout: 5 * time.Second}
	fs := flag.NewFlagSet("skiff-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	var testList string
	modeNames := make([]string, 0, len(modes))
	for m := range modes {
		modeNames = append(modeNames, m)
	}
	slices.Sort(modeNames)

	fs.StringVar(&cfg.mode, "mode", "resp", "protocol family: "+strings.Join(modeNames, ", "))
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:6379", "server address host:port")
	fs.IntVar(&cfg.conns, "c", 50, "parallel connections")
	fs.Int64Var(&cfg.requests, "n", 200000, "requests per test")
	fs.IntVar(&cfg.dataSize, "d", 3, "value size in bytes")
	fs.IntVar(&cfg.pipeline, "P", 1, "pipeline depth: requests sent per batch on a connection")
	fs.StringVar(&testList, "t", "set,get,incr,lpush,rpop,mset,ping",
		"comma-separated tests, run in this order (resp: "+strings.Join(respTestNames(), ",")+")")
	fs.Int64Var(&cfg.keyspace, "r", 0, "random keys in [0, r) as key:000000000123; 0 = one fixed key")
	fs.DurationVar(&cfg.duration, "duration", 60*time.Second, "time cap per test (and per warmup); a test ends at -n or -duration, whichever comes first")
	fs.Int64Var(&cfg.warmup, "warmup", 0, "unmeasured requests sent before each test, on the same connections")
	fs.IntVar(&cfg.procs, "procs", 1, "GOMAXPROCS for the client; 1 is single-threaded like redis-benchmark and leaves the other cores to the server (0 = all cores)")
	fs.BoolVar(&cfg.jsonOut, "json", false, "one JSON object per test on stdout")
	fs.BoolVar(&cfg.quiet, "q", false, "quiet: one line per test")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, t := range strings.Split(testList, ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			cfg.tests = append(cfg.tests, t)
		}
	}
	switch {
	case modes[cfg.mode] == nil:
		return nil, fmt.Errorf("unknown -mode %q (known: %s)", cfg.mode, strings.Join(modeNames, ", "))
	case cfg.conns < 1:
		return nil, errors.New("-c must be at least 1")
	case cfg.requests < 1:
		return nil, errors.New("-n must be at least 1")
	case cfg.dataSize < 1:
		return nil, errors.New("-d must be at least 1")
	case cfg.pipeline < 1:
		return nil, errors.New("-P must be at least 1")
	case cfg.keyspace < 0 || cfg.keyspace > maxKeyspace:
		return nil, fmt.Errorf("-r must be in [0, %d]", int64(maxKeyspace))
	case cfg.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case cfg.warmup < 0:
		return nil, errors.New("-warmup must not be negative")
	case cfg.procs < 0:
		return nil, errors.New("-procs must not be negative")
	case len(cfg.tests) == 0:
		return nil, errors.New("-t lists no test")
	}
	return cfg, nil
}
