// Package nodetest starts real nodes for tests: one node through
// internal/node on ephemeral loopback ports, with an isolated data dir,
// logs sent to t.Log, and shutdown (checked) when the test ends.
package nodetest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node"
)

// Node is a running test node.
type Node struct {
	*node.Node
	Addr string // RESP address
}

// Start starts a node on 127.0.0.1:0. edit may change the config first.
func Start(t testing.TB, edit func(*config.Config)) *Node {
	t.Helper()
	cfg := config.Default()
	cfg.RedisAddr = "127.0.0.1:0"
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = "warn"
	cfg.RaftTimeout = 300 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := node.New(cfg, log)
	if err != nil {
		t.Fatalf("nodetest: start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("nodetest: node stopped with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("nodetest: node did not stop within 10s")
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := n.WaitReady(wctx); err != nil {
		t.Fatalf("nodetest: no leader: %v", err)
	}
	return &Node{Node: n, Addr: n.RESPAddr()}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
