package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// devClusterUsage is `skiff dev-cluster --help`.
const devClusterUsage = `Usage: skiff dev-cluster [flags]

Runs a local cluster for development: N skiff nodes as child processes of this
one, everything on 127.0.0.1, bootstrapped with the static --initial-cluster
form. Node i (counting from 0) has id n<i+1>, serves RESP on base-port+i,
Raft on base-port+10000+i, gRPC on grpc-base-port+i and REST on
http-base-port+i, and keeps its data in <dir>/n<i+1>. Each node's log
lines are printed with its id in front.

Ctrl-C or SIGTERM stops every node (SIGTERM, then SIGKILL after 10s; a second
Ctrl-C kills at once) and exits 0. A node that exits on its own stops the
others and exits 1. Starting again with the same --dir and --nodes brings the
same cluster back, data included.

Flags:
  --nodes n         number of nodes (default 3)
  --base-port port  RESP port of n1; Raft ports are 10000 higher (default 6379)
  --grpc-base-port port  gRPC port of n1 (default 50051; 0: no gRPC)
  --http-base-port port  REST port of n1 (default 8080; 0: no REST)
  --dir path        parent of the nodes' data dirs (default "./skiff-dev")
  --fsync mode      always or everysec, for every node (default "always")
`

// devStopTimeout is how long dev-cluster waits for its nodes to exit after
// SIGTERM before it kills them.
const devStopTimeout = 10 * time.Second

// devNode is one child process of dev-cluster.
type devNode struct {
	id, respAddr, raftAddr, dataDir string
	grpcAddr, httpAddr              string // "" = that front door is off
	cmd                             *exec.Cmd
	logw                            *prefixWriter
	exited                          bool
}

type devExit struct {
	n   *devNode
	err error // from Wait: nil for exit status 0
}

// devCluster runs the children. Only the goroutine in runDevCluster touches
// its fields except mu, which serializes writes to out and errOut (the
// children's log copiers and the leader announcer write too).
type devCluster struct {
	mu          sync.Mutex
	out, errOut io.Writer
	nodes       []*devNode
	running     int
	exitCh      chan devExit
}

// runDevCluster is `skiff dev-cluster ...`; it returns the exit status.
func runDevCluster(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff dev-cluster", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	nodes := fs.Int("nodes", 3, "")
	base := fs.Int("base-port", 6379, "")
	grpcBase := fs.Int("grpc-base-port", 50051, "")
	httpBase := fs.Int("http-base-port", 8080, "")
	dir := fs.String("dir", "./skiff-dev", "")
	fsync := fs.String("fsync", "always", "")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, devClusterUsage)
		return 0
	}
	if err == nil {
		err = validateDevCluster(fs, *nodes, *base, *dir, *fsync)
	}
	for _, p := range []struct {
		flag string
		base int
	}{{"grpc-base-port", *grpcBase}, {"http-base-port", *httpBase}} {
		if err == nil && (p.base < 0 || p.base+*nodes-1 > 65535) {
			err = fmt.Errorf("--%s %d: the ports %d..%d must lie in 1..65535 (0: off)", p.flag, p.base, p.base, p.base+*nodes-1)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff dev-cluster: %v\n(skiff dev-cluster --help lists the flags)\n", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "skiff dev-cluster:", err)
		return 1
	}

	// Catch signals before any child exists, so none is left behind.
	sigCh := make(chan os.Signal, 2)
	signal.Notify(sigCh, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigCh)

	dc := &devCluster{out: stdout, errOut: stderr, exitCh: make(chan devExit, *nodes)}
	dc.plan(*nodes, *base, *grpcBase, *httpBase, *dir)
	initial := make([]string, len(dc.nodes))
	for i, n := range dc.nodes {
		initial[i] = n.id + "=" + n.raftAddr
	}
	for _, n := range dc.nodes {
		if err := dc.start(exe, n, strings.Join(initial, ","), *fsync); err != nil {
			dc.printf(stderr, "skiff dev-cluster: start %s: %v\n", n.id, err)
			dc.stopAll(sigCh)
			return 1
		}
	}
	dc.printStarted(*dir)

	ctx, cancel := context.WithCancel(context.Background())
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		dc.announceLeader(ctx, os.Getenv("SKIFF_REQUIREPASS"))
	}()
	defer func() {
		cancel()
		<-announced
	}()

	select {
	case sig := <-sigCh:
		dc.printf(stderr, "skiff dev-cluster: %v: stopping %d nodes\n", sig, dc.running)
		dc.stopAll(sigCh)
		return 0
	case ev := <-dc.exitCh:
		dc.exited(ev)
		dc.printf(stderr, "skiff dev-cluster: %s exited unexpectedly (%s); stopping the others\n", ev.n.id, exitText(ev.err))
		dc.stopAll(sigCh)
		return 1
	}
}

func validateDevCluster(fs *flag.FlagSet, nodes, base int, dir, fsync string) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case nodes < 1:
		return fmt.Errorf("--nodes %d: want at least 1", nodes)
	case base < 1 || base+nodes-1+10000 > 65535:
		return fmt.Errorf("--base-port %d: the ports %d..%d and %d..%d must lie in 1..65535",
			base, base, base+nodes-1, base+10000, base+nodes-1+10000)
	case dir == "":
		return errors.New("--dir must not be empty")
	case fsync != "always" && fsync != "everysec":
		return fmt.Errorf("--fsync %q: want always or everysec", fsync)
	}
	return nil
}

// plan fills dc.nodes with each node's id, addresses and data dir.
func (dc *devCluster) plan(nodes, base, grpcBase, httpBase int, dir string) {
	addr := func(base, i int) string {
		if base == 0 {
			return ""
		}
		return "127.0.0.1:" + strconv.Itoa(base+i)
	}
	width := len("n" + strconv.Itoa(nodes))
	for i := range nodes {
		id := "n" + strconv.Itoa(i+1)
		n := &devNode{
			id:       id,
			respAddr: "127.0.0.1:" + strconv.Itoa(base+i),
			raftAddr: "127.0.0.1:" + strconv.Itoa(base+10000+i),
			grpcAddr: addr(grpcBase, i),
			httpAddr: addr(httpBase, i),
			dataDir:  filepath.Join(dir, id),
		}
		n.logw = &prefixWriter{mu: &dc.mu, out: dc.errOut, prefix: []byte(fmt.Sprintf("%-*s | ", width, id))}
		dc.nodes = append(dc.nodes, n)
	}
}

// start starts one node and a goroutine that reports its exit on dc.exitCh.
func (dc *devCluster) start(exe string, n *devNode, initialCluster, fsync string) error {
	n.cmd = exec.Command(exe, "server",
		"--node-id", n.id,
		"--redis-addr", n.respAddr,
		"--raft-addr", n.raftAddr,
		"--grpc-addr", n.grpcAddr,
		"--http-addr", n.httpAddr,
		"--data-dir", n.dataDir,
		"--initial-cluster", initialCluster,
		"--fsync", fsync)
	n.cmd.Env = devChildEnv(os.Environ())
	n.cmd.Stdout = n.logw
	n.cmd.Stderr = n.logw
	n.cmd.WaitDelay = 5 * time.Second // a grandchild holding the log pipe must not hang Wait
	setChildProcAttr(n.cmd)
	if err := n.cmd.Start(); err != nil {
		return err
	}
	dc.running++
	go func() {
		err := n.cmd.Wait()
		n.logw.flush()
		dc.exitCh <- devExit{n: n, err: err}
	}()
	return nil
}

// devChildEnv drops the settings that would contradict the static form
// (the flags dev-cluster passes win over the environment anyway).
func devChildEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "SKIFF_JOIN=") || strings.HasPrefix(kv, "SKIFF_BOOTSTRAP=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (dc *devCluster) printStarted(dir string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "skiff dev-cluster: %d nodes, data in %s (Ctrl-C stops them all)\n", len(dc.nodes), dir)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, n := range dc.nodes {
		fmt.Fprintf(tw, "  %s\tresp %s\traft %s\tgrpc %s\thttp %s\tdata %s\tpid %d\n", n.id, n.respAddr, n.raftAddr, orOff(n.grpcAddr), orOff(n.httpAddr), n.dataDir, n.cmd.Process.Pid)
	}
	tw.Flush()
	_, port, _ := strings.Cut(dc.nodes[0].respAddr, ":")
	fmt.Fprintf(&b, "Connect to any node (followers forward writes to the leader):\n")
	fmt.Fprintf(&b, "  redis-cli -p %s\n", port)
	fmt.Fprintf(&b, "  skiff cluster members --addr %s\n", dc.nodes[0].respAddr)
	dc.printf(dc.out, "%s", b.String())
}

// announceLeader polls the nodes until one names a leader, prints it once,
// and returns (or returns when ctx ends).
func (dc *devCluster) announceLeader(ctx context.Context, password string) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		for _, n := range dc.nodes {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			v, err := clusterCall(cctx, n.respAddr, password, "status")
			cancel()
			if err != nil {
				continue
			}
			kv, err := pairs(v)
			if err != nil {
				continue
			}
			for _, p := range kv {
				if p[0] != "leader_id" || p[1] == "" {
					continue
				}
				for _, l := range dc.nodes {
					if l.id == p[1] {
						dc.printf(dc.out, "skiff dev-cluster: ready, leader is %s (resp %s)\n", l.id, l.respAddr)
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stopAll sends SIGTERM to every running node and waits for all to exit,
// killing those still running after devStopTimeout or at a second signal.
func (dc *devCluster) stopAll(sigCh <-chan os.Signal) {
	for _, n := range dc.nodes {
		if n.cmd != nil && n.cmd.Process != nil && !n.exited {
			if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				_ = n.cmd.Process.Kill()
			}
		}
	}
	timer := time.NewTimer(devStopTimeout)
	defer timer.Stop()
	kill := func(why string) {
		for _, n := range dc.nodes {
			if n.cmd != nil && n.cmd.Process != nil && !n.exited {
				dc.printf(dc.errOut, "skiff dev-cluster: %s: killing %s\n", why, n.id)
				_ = n.cmd.Process.Kill()
			}
		}
	}
	for dc.running > 0 {
		select {
		case ev := <-dc.exitCh:
			dc.exited(ev)
			if ev.err != nil {
				dc.printf(dc.errOut, "skiff dev-cluster: %s stopped: %s\n", ev.n.id, exitText(ev.err))
			}
		case <-timer.C:
			kill(fmt.Sprintf("still running after %v", devStopTimeout))
		case <-sigCh:
			kill("second signal")
		}
	}
}

func (dc *devCluster) exited(ev devExit) {
	ev.n.exited = true
	dc.running--
}

func (dc *devCluster) printf(w io.Writer, format string, args ...any) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	fmt.Fprintf(w, format, args...)
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// prefixWriter writes each complete line it is given to out with prefix in
// front, holding mu for the line so the children's lines do not interleave.
// os/exec calls Write from one goroutine at a time (Stdout and Stderr are the
// same writer); flush, called after Wait, writes an unterminated last line.
type prefixWriter struct {
	mu     *sync.Mutex
	out    io.Writer
	prefix []byte
	buf    []byte
}

// maxLogLine bounds the buffered part of a line without a newline.
const maxLogLine = 64 << 10

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	rest := w.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.emit(rest[:i+1])
		rest = rest[i+1:]
	}
	if len(rest) > maxLogLine {
		w.emit(append(rest, '\n'))
		rest = nil
	}
	w.buf = append(w.buf[:0], rest...)
	return len(p), nil
}

func (w *prefixWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(append(w.buf, '\n'))
		w.buf = w.buf[:0]
	}
}

func (w *prefixWriter) emit(line []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(append(append([]byte(nil), w.prefix...), line...))
}

func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}
