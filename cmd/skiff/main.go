// Command skiff runs a skiff node: a Redis-compatible data store.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node"
	"github.com/skiffdb/skiff/internal/telemetry"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version", "-version":
			fmt.Println("skiff", config.BuildVersion(), "redis_version", config.RedisVersion)
			return 0
		case "server":
			args = args[1:]
		}
	}
	cfg, err := config.Parse(args, config.LookupEnv, os.Stderr)
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		return 2
	}
	log, err := telemetry.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		return 2
	}
	if cfg.Procs > 0 {
		runtime.GOMAXPROCS(cfg.Procs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.New(cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		return 1
	}
	if err := n.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		return 1
	}
	return 0
}
