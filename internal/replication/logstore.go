package replication

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
)

// Fsync is the durability mode, named after Redis's appendfsync.
type Fsync string

// Durability modes.
const (
	// FsyncAlways: a write is acknowledged only after its log entry is
	// fsynced on a majority of nodes. The default.
	FsyncAlways Fsync = "always"
	// FsyncEverySec: a write is acknowledged once a majority holds it in
	// memory (written to the OS); each node fsyncs its log about once a
	// second. A crash of a majority within that second can lose writes.
	FsyncEverySec Fsync = "everysec"
)

// ParseFsync validates a mode name.
func ParseFsync(s string) (Fsync, error) {
	switch Fsync(s) {
	case FsyncAlways, FsyncEverySec:
		return Fsync(s), nil
	}
	return "", fmt.Errorf("replication: fsync mode %q: want always or everysec", s)
}

// logStore is the durable Raft log and stable store (raft-wal v0.4.1: v0.4.0
// loses reads after a tail truncation and its Close leaves the metadata
// store open), plus the deferred-sync file system of everysec mode.
type logStore struct {
	*wal.WAL
	meta     *metadb.BoltMetaDB // raft-wal's Close does not close it: we do
	deferred *deferredFS        // nil in always mode
	// hooks: LogSync and LogAppend (metrics.go)
	hooks atomic.Pointer[Hooks]
}

func openLogStore(dir string, mode Fsync, segmentSize int, log *slog.Logger) (*logStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ls := &logStore{meta: &metadb.BoltMetaDB{}}
	hl := wal.WithLogger(newHCLogger("raft-wal", log))
	md := wal.WithMetaStore(ls.meta)
	if segmentSize <= 0 {
		segmentSize = wal.DefaultSegmentSize
	}
	ss := wal.WithSegmentSize(segmentSize)
	var w *wal.WAL
	var err error
	if mode == FsyncEverySec {
		ls.deferred = newDeferredFS(syncTimedFS{fs.New(), ls}, time.Second, log)
		w, err = wal.Open(dir, hl, md, ss, wal.WithSegmentFiler(sealFiler{segment.NewFiler(dir, ls.deferred), ls.deferred}))
	} else {
		w, err = wal.Open(dir, hl, md, ss, wal.WithSegmentFiler(segment.NewFiler(dir, syncTimedFS{fs.New(), ls})))
	}
	if err != nil {
		if ls.deferred != nil {
			ls.deferred.Close()
		}
		ls.meta.Close()
		return nil, fmt.Errorf("replication: open log %s: %w", dir, err)
	}
	ls.WAL = w
	return ls, nil
}

// Close syncs (in everysec mode) and closes the log.
func (l *logStore) Close() error {
	var err error
	if l.deferred != nil {
		err = l.deferred.Close()
	}
	if cerr := l.WAL.Close(); err == nil {
		err = cerr
	}
	if cerr := l.meta.Close(); err == nil {
		err = cerr
	}
	return err
}

// deferredFS is a raft-wal VFS whose files' Sync only marks them dirty; a
// ticker syncs dirty files every interval (everysec mode).
//
// Safety, measured on this machine (see docs/benchmarks.md, "Log store"):
//   - raft-wal recovers a torn tail on open, keeping every complete batch up
//     to the last synced point.
//   - When a segment is sealed, raft-wal records the seal in its metadata
//     store (which fsyncs on its own); the segment's index block must be on
//     disk before that, or a crash leaves a "sealed" segment whose index was
//     never written and the whole log unreadable. sealFiler syncs at every
//     seal.
//   - A failed background fsync is sticky: every later Sync (so every
//     StoreLogs) fails, and the node stops accepting writes instead of
//     acknowledging data it cannot persist.
type deferredFS struct {
	types.VFS
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	mu   struct {
		sync.Mutex
		dirty map[*deferredFile]struct{}
		err   error
	}
}

func newDeferredFS(base types.VFS, every time.Duration, log *slog.Logger) *deferredFS {
	d := &deferredFS{VFS: base, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	d.mu.dirty = make(map[*deferredFile]struct{})
	go d.run(every)
	return d
}

func (d *deferredFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	f, err := d.VFS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	return &deferredFile{WritableFile: f, d: d}, nil
}

func (d *deferredFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	f, err := d.VFS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	return &deferredFile{WritableFile: f, d: d}, nil
}

func (d *deferredFS) run(every time.Duration) {
	defer close(d.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			_ = d.flush()
			return
		case <-t.C:
			if err := d.flush(); err != nil {
				d.log.Error("log fsync failed: the node refuses further writes", "err", err)
			}
		}
	}
}

// flush syncs every dirty file now. The first error sticks.
func (d *deferredFS) flush() error {
	d.mu.Lock()
	files := make([]*deferredFile, 0, len(d.mu.dirty))
	for f := range d.mu.dirty {
		files = append(files, f)
	}
	clear(d.mu.dirty)
	err := d.mu.err
	d.mu.Unlock()
	if err != nil {
		return err
	}
	for _, f := range files {
		start := time.Now()
		if err := f.realSync(); err != nil {
			d.mu.Lock()
			if d.mu.err == nil {
				d.mu.err = err
			}
			d.mu.Unlock()
			return err
		}
		if dur := time.Since(start); dur > slowSync {
			d.log.Warn("slow log fsync", "duration_ms", ms(dur), "fsync", string(FsyncEverySec))
		}
	}
	return nil
}

// abandon stops the ticker without syncing (a simulated crash).
func (d *deferredFS) abandon() {
	d.mu.Lock()
	clear(d.mu.dirty)
	d.mu.Unlock()
	d.Close()
}

// Close syncs what is dirty and stops the ticker.
func (d *deferredFS) Close() error {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.err
}

type deferredFile struct {
	types.WritableFile
	d      *deferredFS
	smu    sync.Mutex // real Sync against Close
	closed bool
}

// Sync defers the fsync to the next tick (or returns the sticky error).
func (f *deferredFile) Sync() error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	f.d.mu.dirty[f] = struct{}{}
	return f.d.mu.err
}

func (f *deferredFile) realSync() error {
	f.smu.Lock()
	defer f.smu.Unlock()
	if f.closed {
		return nil
	}
	return f.WritableFile.Sync()
}

func (f *deferredFile) Close() error {
	f.d.mu.Lock()
	_, dirty := f.d.mu.dirty[f]
	delete(f.d.mu.dirty, f)
	f.d.mu.Unlock()
	var err error
	if dirty {
		err = f.realSync()
	}
	f.smu.Lock()
	f.closed = true
	f.smu.Unlock()
	if cerr := f.WritableFile.Close(); err == nil {
		err = cerr
	}
	return err
}

// sealFiler makes a segment durable the moment it is sealed (see deferredFS).
type sealFiler struct {
	*segment.Filer
	d *deferredFS
}

func (f sealFiler) Create(info types.SegmentInfo) (types.SegmentWriter, error) {
	w, err := f.Filer.Create(info)
	if err != nil {
		return nil, err
	}
	return sealWriter{w, f.d}, nil
}

func (f sealFiler) RecoverTail(info types.SegmentInfo) (types.SegmentWriter, error) {
	w, err := f.Filer.RecoverTail(info)
	if err != nil {
		return nil, err
	}
	return sealWriter{w, f.d}, nil
}

type sealWriter struct {
	types.SegmentWriter
	d *deferredFS
}

func (w sealWriter) Append(entries []types.LogEntry) error {
	if err := w.SegmentWriter.Append(entries); err != nil {
		return err
	}
	if sealed, _, _ := w.Sealed(); sealed {
		return w.d.flush()
	}
	return nil
}

func (w sealWriter) ForceSeal() (uint64, error) {
	idx, err := w.SegmentWriter.ForceSeal()
	if err != nil {
		return 0, err
	}
	return idx, w.d.flush()
}
