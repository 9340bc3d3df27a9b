package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// clusterUsage is `skiff cluster --help`.
const clusterUsage = `Usage: skiff cluster <command> [args] [flags]

Administers a running cluster through any member's RESP port; each command is
one SKIFF.CLUSTER request (redis-cli SKIFF.CLUSTER <command> does the same).

Commands:
  members               list the members: id, raft address, voter, leader, self
  status                the contacted node's Raft state: role, term, indexes, leader
  add <id> <raft-addr>  add a voting member (runs on the leader; followers forward it)
  remove <id>           remove a member (runs on the leader)
  transfer [<id>]       hand leadership to <id>, or to any up-to-date voter
  snapshot              take a snapshot now and compact the contacted node's log

Flags (each also read from the environment variable shown):
  --addr host:port (SKIFF_ADDR, default "127.0.0.1:6379")
      RESP address of any member
  --password string (SKIFF_PASSWORD)
      password, for a node started with --requirepass
  --timeout duration (default 30s)
      give up on the request after this long

Exit status: 0 on success, 1 on an error reply or a connection failure (the
message is printed), 2 on a usage error. -CLUSTERDOWN and -TRYAGAIN replies are
retriable.
`

// clusterArity is each subcommand's number of arguments after its name: min, max.
var clusterArity = map[string][2]int{
	"members": {0, 0}, "status": {0, 0}, "add": {2, 2}, "remove": {1, 1}, "transfer": {0, 1}, "snapshot": {0, 0},
}

// runCluster is `skiff cluster ...`. It writes results to stdout and
// errors to stderr and returns the exit status.
func runCluster(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	addr, password := "127.0.0.1:6379", ""
	if v, ok := env("SKIFF_ADDR"); ok {
		addr = v
	}
	if v, ok := env("SKIFF_PASSWORD"); ok {
		password = v
	}
	fs := flag.NewFlagSet("skiff cluster", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&addr, "addr", addr, "")
	fs.StringVar(&password, "password", password, "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) || (err == nil && len(pos) > 0 && pos[0] == "help") {
		fmt.Fprint(stdout, clusterUsage)
		return 0
	}
	if err == nil && len(pos) == 0 {
		err = errors.New("no command given")
	}
	if err == nil {
		ar, ok := clusterArity[strings.ToLower(pos[0])]
		switch {
		case !ok:
			err = fmt.Errorf("unknown command %q", pos[0])
		case len(pos)-1 < ar[0] || len(pos)-1 > ar[1]:
			err = fmt.Errorf("%s: wrong number of arguments", pos[0])
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff cluster: %v\n(skiff cluster --help lists the commands)\n", err)
		return 2
	}
	sub := strings.ToLower(pos[0])
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	v, err := clusterCall(ctx, addr, password, append([]string{sub}, pos[1:]...)...)
	if err != nil {
		fmt.Fprintln(stderr, "skiff cluster:", err)
		return 1
	}
	switch sub {
	case "members":
		err = printMembers(stdout, v)
	case "status":
		err = printStatus(stdout, v)
	default:
		err = printSimple(stdout, v)
	}
	if err != nil {
		fmt.Fprintln(stderr, "skiff cluster:", err)
		return 1
	}
	return 0
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`skiff cluster status --addr x` and `skiff cluster
// --addr x status` both work) and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// replyError is an error reply from the node; its text is the reply without
// the leading '-', e.g. "CLUSTERDOWN no leader".
type replyError string

func (e replyError) Error() string { return string(e) }

// clusterCall sends SKIFF.CLUSTER args... to addr, after AUTH when password is
// set, and returns the reply. An error reply is returned as a replyError;
// anything else that goes wrong (dial, I/O, ctx's deadline) as the I/O error.
func clusterCall(ctx context.Context, addr, password string, args ...string) (resp.Value, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return resp.Value{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var req []byte
	if password != "" {
		req = resp.AppendCommandString(req, "AUTH", password)
	}
	req = resp.AppendCommandString(req, append([]string{"SKIFF.CLUSTER"}, args...)...)
	if _, err := c.Write(req); err != nil {
		return resp.Value{}, err
	}
	rd := resp.NewReader(c, 4096)
	if password != "" {
		v, err := rd.ReadValue()
		if err != nil {
			return resp.Value{}, err
		}
		if isErrorReply(v) {
			return resp.Value{}, replyError(v.Str)
		}
	}
	v, err := rd.ReadValue()
	if err != nil {
		return resp.Value{}, err
	}
	if isErrorReply(v) {
		return resp.Value{}, replyError(v.Str)
	}
	return v, nil
}

func isErrorReply(v resp.Value) bool { return v.Type == '-' || v.Type == '!' }

// pairs returns a map reply's keys and values in order. RESP2 sends a map
// as a flat array, RESP3 as a map; both have keys and values alternating.
func pairs(v resp.Value) ([][2]string, error) {
	if (v.Type != '%' && v.Type != '*') || len(v.Elems)%2 != 0 {
		return nil, fmt.Errorf("unexpected reply %s", render(v))
	}
	out := make([][2]string, 0, len(v.Elems)/2)
	for i := 0; i < len(v.Elems); i += 2 {
		out = append(out, [2]string{render(v.Elems[i]), render(v.Elems[i+1])})
	}
	return out, nil
}

// printMembers prints SKIFF.CLUSTER MEMBERS as a table.
func printMembers(w io.Writer, v resp.Value) error {
	if v.Type != '*' && v.Type != '~' {
		return fmt.Errorf("unexpected reply %s", render(v))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRAFT ADDR\tVOTER\tLEADER\tSELF")
	for _, m := range v.Elems {
		kv, err := pairs(m)
		if err != nil {
			return err
		}
		f := map[string]string{}
		for _, p := range kv {
			f[p[0]] = p[1]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f["id"], f["raft_addr"], yesNo(f["voter"]), yesNo(f["leader"]), yesNo(f["self"]))
	}
	return tw.Flush()
}

func yesNo(s string) string {
	if s == "1" || s == "true" {
		return "yes"
	}
	return "no"
}

// printStatus prints SKIFF.CLUSTER STATUS as "key: value" lines, in the
// node's order.
func printStatus(w io.Writer, v resp.Value) error {
	kv, err := pairs(v)
	if err != nil {
		return err
	}
	for _, p := range kv {
		fmt.Fprintf(w, "%s: %s\n", p[0], p[1])
	}
	return nil
}

func printSimple(w io.Writer, v resp.Value) error {
	_, err := fmt.Fprintln(w, render(v))
	return err
}

// render is a one-line text form of a reply, for scalars and for replies of
// a shape this client does not know.
func render(v resp.Value) string {
	switch v.Type {
	case ':':
		return strconv.FormatInt(v.Int, 10)
	case '#':
		if v.Bool {
			return "true"
		}
		return "false"
	case '_':
		return "(nil)"
	case '*', '%', '~', '>', '|':
		if v.Null {
			return "(nil)"
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		if v.Null {
			return "(nil)"
		}
		return string(v.Str)
	}
}
