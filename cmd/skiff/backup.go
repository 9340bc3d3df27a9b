package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/skiffdb/skiff/internal/node"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// backupUsage is `skiff backup --help`.
const backupUsage = `Usage: skiff backup --to FILE [flags]

Downloads a backup of every database from a running node (GET /v1/backup on
its REST port) and writes it to FILE. Any member will do, a follower as well
as the leader: the backup holds every write acknowledged before it started.
The file is checked (both of its checksums) before it is renamed into place,
so FILE is either a complete backup or untouched. "--to -" writes to stdout.

Flags (each also read from the environment variable shown):
  --to FILE             where to write the backup (required)
  --addr host:port (SKIFF_HTTP_ADDR, default "127.0.0.1:8080")
      REST (HTTP) address of any member
  --password string (SKIFF_PASSWORD)
      password, for a node started with --requirepass
  --timeout duration (default 0: none)
      give up after this long

Exit status: 0 on success, 1 on failure (the message is printed), 2 on a
usage error.
`

// restoreUsage is `skiff restore --help`.
const restoreUsage = `Usage: skiff restore --from FILE [flags]

Replaces the data of a whole cluster, every key of every database on every
member, with a backup written by "skiff backup" (POST /v1/restore on any
member's REST port; the membership stays as it is). The file is checked here
first, and again by the leader in full before anything changes: a corrupt,
truncated or wrong-version file, or one with another number of databases
(--databases), is refused and the cluster is left as it was. Writes in flight
at that moment fail as "outcome unknown". A restore that fails with a
retriable error is sent again (restoring the same file twice is harmless).

Flags (each also read from the environment variable shown):
  --from FILE           the backup file (required)
  --addr host:port (SKIFF_HTTP_ADDR, default "127.0.0.1:8080")
      REST (HTTP) address of any member
  --password string (SKIFF_PASSWORD)
      password, for a node started with --requirepass
  --timeout duration (default 0: none)
      give up after this long

Exit status: 0 on success, 1 on failure (the message is printed), 2 on a
usage error.
`

// transferFlags are the flags backup and restore share.
type transferFlags struct {
	file     string
	addr     string
	password string
	timeout  time.Duration
}

func parseTransferFlags(name, fileFlag string, args []string, env func(string) (string, bool)) (transferFlags, error) {
	f := transferFlags{addr: "127.0.0.1:8080"}
	if v, ok := env("SKIFF_HTTP_ADDR"); ok && v != "" {
		f.addr = v
	}
	if v, ok := env("SKIFF_PASSWORD"); ok {
		f.password = v
	}
	fs := flag.NewFlagSet("skiff "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.file, fileFlag, "", "")
	fs.StringVar(&f.addr, "addr", f.addr, "")
	fs.StringVar(&f.password, "password", f.password, "")
	fs.DurationVar(&f.timeout, "timeout", 0, "")
	pos, err := parseInterleaved(fs, args)
	switch {
	case err != nil:
		return f, err
	case len(pos) == 1 && pos[0] == "help":
		return f, flag.ErrHelp
	case len(pos) > 0:
		return f, fmt.Errorf("unexpected argument %q", pos[0])
	case f.file == "":
		return f, fmt.Errorf("--%s FILE is required", fileFlag)
	}
	return f, nil
}

// url returns the endpoint path on the node at f.addr (host:port, or a URL).
func (f transferFlags) url(path string) string {
	base := strings.TrimRight(f.addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return base + path
}

func (f transferFlags) context() (context.Context, context.CancelFunc) {
	if f.timeout > 0 {
		return context.WithTimeout(context.Background(), f.timeout)
	}
	return context.WithCancel(context.Background())
}

// transferClient connects within 10 s; a transfer itself may take long.
var transferClient = &http.Client{Transport: &http.Transport{
	Proxy:       http.ProxyFromEnvironment,
	DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
}}

// runBackup is `skiff backup ...`.
func runBackup(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	f, err := parseTransferFlags("backup", "to", args, env)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, backupUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff backup: %v\n(skiff backup --help lists the flags)\n", err)
		return 2
	}
	ctx, cancel := f.context()
	defer cancel()
	info, n, err := backup(ctx, f, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "skiff backup:", err)
		return 1
	}
	msg := fmt.Sprintf("skiff backup: wrote %s: %d bytes, revision %d of node %s taken %s\n",
		f.file, n, info.Revision, info.NodeID, info.Created.Format(time.RFC3339))
	if f.file == "-" {
		fmt.Fprint(stderr, msg)
	} else {
		fmt.Fprint(stdout, msg)
	}
	return 0
}

func backup(ctx context.Context, f transferFlags, stdout io.Writer) (backupHeader, int64, error) {
	var resp *http.Response
	err := withRetries(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url("/v1/backup"), nil)
		if err != nil {
			return err
		}
		f.authorize(req)
		resp, err = transferClient.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			defer resp.Body.Close()
			return answerError(resp)
		}
		return nil
	})
	if err != nil {
		return backupHeader{}, 0, err
	}
	defer resp.Body.Close()

	var out io.Writer = stdout
	var tmp *os.File
	if f.file != "-" {
		// A temporary file beside FILE, renamed over it once complete.
		if tmp, err = os.CreateTemp(filepath.Dir(f.file), "."+filepath.Base(f.file)+".*.tmp"); err != nil {
			return backupHeader{}, 0, err
		}
		defer func() {
			tmp.Close()
			os.Remove(tmp.Name()) // fails once renamed
		}()
		out = tmp
	}
	kept := "nothing was written to " + f.file
	if tmp == nil {
		kept = "discard what was written to stdout"
	}
	v := &backupVerifier{}
	n, err := io.Copy(io.MultiWriter(out, v), resp.Body)
	if err != nil {
		return backupHeader{}, n, fmt.Errorf("the transfer failed after %d bytes (%s): %w", n, kept, err)
	}
	info, err := v.finish()
	if err != nil {
		return info, n, fmt.Errorf("the backup received is invalid (%s): %w", kept, err)
	}
	if tmp == nil {
		return info, n, nil
	}
	if err := tmp.Sync(); err != nil {
		return info, n, err
	}
	if err := tmp.Close(); err != nil {
		return info, n, err
	}
	if err := os.Rename(tmp.Name(), f.file); err != nil {
		return info, n, err
	}
	if d, err := os.Open(filepath.Dir(f.file)); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return info, n, nil
}

// runRestore is `skiff restore ...`.
func runRestore(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	f, err := parseTransferFlags("restore", "from", args, env)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, restoreUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff restore: %v\n(skiff restore --help lists the flags)\n", err)
		return 2
	}
	ctx, cancel := f.context()
	defer cancel()
	info, err := restore(ctx, f)
	if err != nil {
		fmt.Fprintln(stderr, "skiff restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "skiff restore: the cluster at %s now holds %s: revision %d of node %s taken %s\n",
		f.addr, f.file, info.Revision, info.NodeID, info.Created.Format(time.RFC3339))
	return 0
}

func restore(ctx context.Context, f transferFlags) (backupHeader, error) {
	file, err := os.Open(f.file)
	if err != nil {
		return backupHeader{}, err
	}
	defer file.Close()
	// Check the whole file here first: a damaged copy is refused without
	// sending it (the leader checks again, in full, before it changes
	// anything).
	v := &backupVerifier{}
	size, err := io.Copy(v, file)
	if err != nil {
		return backupHeader{}, err
	}
	info, err := v.finish()
	if err != nil {
		return info, fmt.Errorf("%s is not a valid backup (nothing was sent): %w", f.file, err)
	}
	err = withRetries(ctx, func() error {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url("/v1/restore"), io.NopCloser(file))
		if err != nil {
			return err
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		f.authorize(req)
		resp, err := transferClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return answerError(resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	})
	return info, err
}

func (f transferFlags) authorize(req *http.Request) {
	if f.password != "" {
		req.Header.Set("Authorization", "Bearer "+f.password)
	}
}

// answerErr is an error answer of the node; retriable for 503.
type answerErr struct {
	status        int
	code, message string
}

func (e *answerErr) Error() string {
	if e.code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.status, e.message)
	}
	return e.code + ": " + e.message
}

func answerError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ej struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &ej) == nil && ej.Error.Code != "" {
		return &answerErr{status: resp.StatusCode, code: ej.Error.Code, message: ej.Error.Message}
	}
	return &answerErr{status: resp.StatusCode, message: strings.TrimSpace(string(body))}
}

// withRetries runs try until it succeeds, fails other than with a 503
// answer (no leader yet, leadership moving), or the fifth attempt.
func withRetries(ctx context.Context, try func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		err = try()
		var ae *answerErr
		if !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable {
			return err
		}
	}
	return err
}

// backupHeader is the JSON header of a backup file, the one type the server
// writes it with (docs/operations.md describes the format).
type backupHeader = node.BackupInfo

// backupVerifier checks a backup file written through it: the header
// (magic "SKIFFBAK", version 1, JSON length, JSON, CRC-32C of all before
// it) and the body's own checksum (the store snapshot stream ends with the
// CRC-32C of every byte before it). It does not decode the records; the
// node restoring a file does.
type backupVerifier struct {
	head    []byte // the header, until complete
	hdrLen  int    // its length once known
	info    backupHeader
	err     error
	body    int64  // body bytes seen
	magic   []byte // the body's first bytes
	crc     uint32 // of the body, but for its last 4 bytes
	tail    []byte // the last 4 bytes seen
	started bool
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

const (
	backupMagic    = "SKIFFBAK"
	backupFixedLen = len(backupMagic) + 1 + 4
)

func (v *backupVerifier) Write(p []byte) (int, error) {
	n := len(p)
	if v.err != nil {
		return n, nil // reported by finish
	}
	if !v.started {
		v.head = append(v.head, p...)
		if v.hdrLen == 0 && len(v.head) >= backupFixedLen {
			switch {
			case string(v.head[:len(backupMagic)]) != backupMagic:
				v.err = errors.New("not a skiff backup file")
			case v.head[len(backupMagic)] != 1:
				v.err = fmt.Errorf("backup file format version %d; this build reads version 1", v.head[len(backupMagic)])
			default:
				l := binary.LittleEndian.Uint32(v.head[len(backupMagic)+1:])
				if l > 64<<10 {
					v.err = fmt.Errorf("corrupt backup file: header of %d bytes", l)
				}
				v.hdrLen = backupFixedLen + int(l) + 4
			}
			if v.err != nil {
				return n, nil
			}
		}
		if v.hdrLen == 0 || len(v.head) < v.hdrLen {
			return n, nil
		}
		hdr, rest := v.head[:v.hdrLen], v.head[v.hdrLen:]
		js := hdr[backupFixedLen : v.hdrLen-4]
		if got, want := binary.LittleEndian.Uint32(hdr[v.hdrLen-4:]), crc32.Checksum(hdr[:v.hdrLen-4], crc32c); got != want {
			v.err = fmt.Errorf("corrupt backup file: header checksum %08x, computed %08x", got, want)
			return n, nil
		}
		if err := json.Unmarshal(js, &v.info); err != nil {
			v.err = fmt.Errorf("corrupt backup file: header: %v", err)
			return n, nil
		}
		if v.info.Format != 1 {
			v.err = fmt.Errorf("backup file format version %d; this build reads version 1", v.info.Format)
			return n, nil
		}
		v.started = true
		p = bytes.Clone(rest)
		v.head = nil
	}
	v.bodyWrite(p)
	return n, nil
}

// bodyWrite folds p into the checksum, holding back the last 4 bytes.
func (v *backupVerifier) bodyWrite(p []byte) {
	if len(v.magic) < 8 {
		v.magic = append(v.magic, p[:min(len(p), 8-len(v.magic))]...)
	}
	v.body += int64(len(p))
	if len(p) >= 4 {
		v.crc = crc32.Update(v.crc, crc32c, v.tail)
		v.crc = crc32.Update(v.crc, crc32c, p[:len(p)-4])
		v.tail = append(v.tail[:0], p[len(p)-4:]...)
		return
	}
	all := append(append([]byte(nil), v.tail...), p...)
	if k := len(all) - 4; k > 0 {
		v.crc = crc32.Update(v.crc, crc32c, all[:k])
		all = all[k:]
	}
	v.tail = all
}

// finish reports whether everything written was one valid backup.
func (v *backupVerifier) finish() (backupHeader, error) {
	switch {
	case v.err != nil:
		return v.info, v.err
	case !v.started:
		return v.info, errors.New("not a skiff backup file (truncated header)")
	case string(v.magic) != "SKIFFSNP" || len(v.tail) < 4:
		return v.info, errors.New("corrupt backup file: no snapshot after the header")
	}
	if got := binary.LittleEndian.Uint32(v.tail); got != v.crc {
		return v.info, fmt.Errorf("corrupt or truncated backup file: checksum %08x, computed %08x over %d bytes", got, v.crc, v.body-4)
	}
	return v.info, nil
}
