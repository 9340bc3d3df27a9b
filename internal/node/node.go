package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/respserver"
	"github.com/skiffdb/skiff/internal/store"
)

// Node is one skiff server: the store, the engine, the command layer and
// the front doors, wired together. The binary and the tests start nodes only
// through New and Run.
type Node struct {
	cfg    config.Config
	log    *slog.Logger
	store  *store.Store
	engine *engine.Engine
	exec   *command.Server
	resp   *respserver.Server
	// ctx is cancelled when Run's shutdown is complete; commands use it.
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a node and binds its listeners, so an address already in use is
// reported here. Call Run to serve; if Run is never called, call Close.
func New(cfg config.Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: log}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.store = store.New(store.Options{Databases: cfg.Databases})
	n.engine = engine.New(n.store, engine.Options{Logger: log.With("component", "engine")})
	params := map[string]string{"databases": strconv.Itoa(cfg.Databases), "maxclients": strconv.Itoa(cfg.MaxClients)}
	if cfg.RequirePass != "" {
		params["requirepass"] = cfg.RequirePass
	}
	exec, err := command.NewServer(n.ctx, command.Options{
		Engine:   n.engine,
		Logger:   log.With("component", "command"),
		Version:  config.Version,
		RESPAddr: cfg.RedisAddr,
		Params:   params,
	})
	if err != nil {
		n.cancel()
		return nil, err
	}
	n.exec = exec
	n.resp, err = respserver.Listen(respserver.Options{
		Addr:       cfg.RedisAddr,
		Exec:       exec,
		Logger:     log.With("component", "resp"),
		MaxClients: cfg.MaxClients,
	})
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("node: RESP listen on %s: %w", cfg.RedisAddr, err)
	}
	return n, nil
}

// RESPAddr returns the bound RESP address (host:port), useful with port 0.
func (n *Node) RESPAddr() string { return n.resp.Addr().String() }

// Store returns the node's store (tests compare digests).
func (n *Node) Store() *store.Store { return n.store }

// Run serves until ctx ends, then shuts down in order: stop accepting, let
// connections finish the commands they have read, stop the engine. It returns
// nil after a clean shutdown.
func (n *Node) Run(ctx context.Context) error {
	n.log.Info("skiff started",
		"version", config.BuildVersion(),
		"resp_addr", n.RESPAddr(),
		"data_dir", n.cfg.DataDir,
		"durability", "memory only: data is lost when the process stops (replication and the Raft log arrive in a later version)",
		"pid", os.Getpid())
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan error, 1)
	go func() { engDone <- n.engine.Run(engCtx) }()

	err := n.resp.Serve(ctx)
	stopEngine()
	if eerr := <-engDone; err == nil {
		err = eerr
	}
	n.cancel()
	n.log.Info("skiff stopped")
	return err
}

// Close releases a node whose Run was never called.
func (n *Node) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.resp.Serve(ctx)
	n.cancel()
}
