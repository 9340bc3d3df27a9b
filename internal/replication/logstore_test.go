package replication

import (
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/fs"
)

func storeN(t *testing.T, ls *logStore, from, n int) {
	t.Helper()
	logs := make([]*raft.Log, 0, n)
	for i := from; i < from+n; i++ {
		logs = append(logs, &raft.Log{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: make([]byte, 200)})
	}
	if err := ls.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

// TestLogStore_EverySecReopensAcrossSegments writes enough in everysec mode
// to seal several small segments, closes, reopens and reads every entry.
func TestLogStore_EverySecReopensAcrossSegments(t *testing.T) {
	for _, mode := range []Fsync{FsyncAlways, FsyncEverySec} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			log := slog.New(slog.DiscardHandler)
			ls, err := openLogStore(dir, mode, 8192, log)
			if err != nil {
				t.Fatal(err)
			}
			for b := 0; b < 50; b++ {
				storeN(t, ls, 1+b*10, 10)
			}
			if err := ls.Close(); err != nil {
				t.Fatal(err)
			}
			ls, err = openLogStore(dir, mode, 8192, log)
			if err != nil {
				t.Fatal(err)
			}
			defer ls.Close()
			last, _ := ls.LastIndex()
			if last != 500 {
				t.Fatalf("last index %d after reopen, want 500", last)
			}
			var l raft.Log
			for i := uint64(1); i <= 500; i++ {
				if err := ls.GetLog(i, &l); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
			}
		})
	}
}

// TestDeferredFS_FsyncErrorSticks: once a background fsync fails, every
// later Sync fails, so raft stops acknowledging writes.
func TestDeferredFS_FsyncErrorSticks(t *testing.T) {
	d := newDeferredFS(fs.New(), time.Hour, slog.New(slog.DiscardHandler))
	defer d.Close()
	dir := t.TempDir()
	wf, err := d.Create(dir, "seg", 0)
	if err != nil {
		t.Fatal(err)
	}
	f := wf.(*deferredFile)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	// Make the real fsync fail: close the underlying file behind raft-wal's back.
	f.WritableFile.Close()
	if err := d.flush(); err == nil {
		t.Fatal("flush of a closed file succeeded")
	}
	if err := f.Sync(); err == nil {
		t.Fatal("Sync after a failed fsync returned nil: the error must stick")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.flush(); err == nil || errors.Is(err, nil) {
		t.Fatal("sticky error lost")
	}
}
