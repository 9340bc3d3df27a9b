package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
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
		case "dev-cluster":
			return runDevCluster(args[1:], os.Stdout, os.Stderr)
		case "cluster":
			return runCluster(args[1:], config.LookupEnv, os.Stdout, os.Stderr)
		case "backup":
			return runBackup(args[1:], config.LookupEnv, os.Stdout, os.Stderr)
		case "restore":
			return runRestore(args[1:], config.LookupEnv, os.Stdout, os.Stderr)
		case "help":
			args = []string{"--help"}
		case "server":
			args = args[1:]
		}
	}
	var usage bytes.Buffer
	cfg, err := config.Parse(args, config.LookupEnv, &usage)
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(withSubcommands(usage.String()))
		return 0
	}
	os.Stderr.WriteString(withSubcommands(usage.String()))
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

// subcommandUsage is the Usage block of `skiff --help`.
const subcommandUsage = `Usage:
  skiff [server] [flags]          run a node (the flags below)
  skiff dev-cluster [flags]       run a local N-node cluster as child processes, for development
  skiff cluster <command> [flags] administer a running cluster: members, status, add, remove,
                                  transfer, snapshot
  skiff backup --to FILE [flags]  download a backup of every database from any member
  skiff restore --from FILE [flags]
                                  replace the whole cluster's data with a backup
  skiff version                   print the version

"skiff <dev-cluster|cluster|backup|restore> --help" describes each.
`

// withSubcommands replaces the Usage block of config.Parse's usage text (the
// paragraph from "Usage:" to the next blank line, which knows only the node's
// own flags) with the list of every subcommand. Text without such a block is
// returned unchanged.
func withSubcommands(text string) string {
	i := strings.Index(text, "Usage:\n")
	if i < 0 {
		return text
	}
	j := strings.Index(text[i:], "\n\n")
	if j < 0 {
		return text
	}
	return text[:i] + subcommandUsage + text[i+j+1:]
}
