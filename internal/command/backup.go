package command

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/skiffdb/skiff/internal/store"
)

// Backups and restores (REST GET /v1/backup and POST /v1/restore; the
// `skiff backup` and `skiff restore` commands). A backup file is a small
// header and the store's own snapshot stream:
//
//	file    = magic version hdrlen:uint32 header crc:uint32 body
//	magic   = "SKIFFBAK"
//	version = byte 1 (backupVersion)
//	header  = hdrlen bytes of JSON: BackupInfo
//	crc     = CRC-32C (Castagnoli) of every byte before it, magic included
//	body    = the store's snapshot stream (store/snapshot.go: "SKIFFSNP",
//	          its own version, every key with type, value, revision and
//	          deadline, a record count and a CRC-32C trailer)
//
// Integers are little endian. The body ends the file: a reader refuses
// anything after its trailer.

const (
	backupMagic   = "SKIFFBAK"
	backupVersion = 1
	// backupHeaderMax bounds the JSON header before it is read.
	backupHeaderMax = 64 << 10
	// backupCatchUp bounds a follower's wait to apply what the leader had
	// applied when the backup was asked for, and the wait for a snapshot
	// raft is writing to finish (one store snapshot at a time).
	backupCatchUp = 30 * time.Second
)

var backupCRC = crc32.MakeTable(crc32.Castagnoli)

// BackupInfo is the header of a backup file.
type BackupInfo struct {
	// Format is the file format version (1).
	Format int `json:"format"`
	// Created is when the snapshot was taken (UTC).
	Created time.Time `json:"created"`
	// NodeID is the member that wrote the file.
	NodeID string `json:"node_id"`
	// Revision is the store revision the snapshot shows.
	Revision uint64 `json:"revision"`
	// Databases is the number of databases (--databases); a restore needs
	// the same number.
	Databases int `json:"databases"`
	// Version is the skiff version that wrote the file.
	Version string `json:"skiff_version"`
}

// Backup writes a backup of every database to w: the header, then the
// store's snapshot stream. It returns the header and the bytes written.
//
// It runs on the node it is called on, follower or leader, and the file
// holds every write acknowledged before the call: it first learns the
// leader's applied index after a read barrier (SKIFF.APPLIED from a follower,
// as blocked clients settle) and waits until this node has applied as far,
// then takes a copy-on-write snapshot of the store (writes go on meanwhile)
// and streams it. A follower therefore serves backups without loading the
// leader. The store keeps one snapshot at a time: while the backup streams,
// raft's own snapshots on this node are refused and retried later.
//
// Errors before anything was written (nothing was written when the returned
// count is 0): the engine's retriable ones (no leader, leader unreachable),
// ctx's, and context.DeadlineExceeded when this node could not catch up or
// a snapshot stayed busy for backupCatchUp. An error after that is w's, or
// the store's; the caller must discard what it received.
func (s *Server) Backup(ctx context.Context, w io.Writer) (BackupInfo, int64, error) {
	start := time.Now()
	info := BackupInfo{Format: backupVersion, Databases: s.eng.Store().Databases(), Version: s.version}
	if s.cluster != nil {
		info.NodeID = s.cluster.Status().NodeID
	}
	sn, err := s.backupSnapshot(ctx)
	if err != nil {
		return info, 0, err
	}
	defer sn.Release()
	info.Created = time.Now().UTC()
	bw := &backupWriter{w: w, info: &info}
	if _, err := sn.WriteTo(bw); err != nil {
		return info, bw.n, err
	}
	s.log.Info("backup written", "revision", info.Revision, "bytes", bw.n,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return info, bw.n, nil
}

// backupSnapshot waits until this node has applied everything the leader
// had applied at the call, then begins a store snapshot.
func (s *Server) backupSnapshot(ctx context.Context) (*store.Snapshot, error) {
	target, err := s.leaderApplied(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, backupCatchUp)
	defer cancel()
	for {
		if s.localApplied() >= target {
			sn, err := s.eng.Store().BeginSnapshot()
			if !errors.Is(err, store.ErrSnapshotActive) {
				return sn, err
			}
		}
		select {
		case <-wctx.Done():
			return nil, wctx.Err()
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// backupWriter writes the backup header in front of the store's snapshot
// stream: it holds the stream's first bytes until their header (magic,
// version, revision, databases) is complete, so the file header carries the
// exact revision the snapshot shows.
type backupWriter struct {
	w    io.Writer
	info *BackupInfo
	head []byte // the stream's first bytes, until the header is written
	done bool
	n    int64 // bytes written to w
}

func (b *backupWriter) Write(p []byte) (int, error) {
	if b.done {
		n, err := b.w.Write(p)
		b.n += int64(n)
		return n, err
	}
	b.head = append(b.head, p...)
	rev, ok := snapshotRevision(b.head)
	if !ok {
		if len(b.head) > 64 {
			return 0, errors.New("command: backup: unexpected snapshot stream")
		}
		return len(p), nil
	}
	b.info.Revision = rev
	b.done = true
	for _, chunk := range [][]byte{encodeBackupHeader(*b.info), b.head} {
		n, err := b.w.Write(chunk)
		b.n += int64(n)
		if err != nil {
			return 0, err
		}
	}
	b.head = nil
	return len(p), nil
}

// snapshotRevision reads the revision from the start of a store snapshot
// stream ("SKIFFSNP", version byte, revision and database count as
// uvarints); ok is false until all of it is in head.
func snapshotRevision(head []byte) (rev uint64, ok bool) {
	const fixed = len("SKIFFSNP") + 1
	if len(head) < fixed || string(head[:fixed-1]) != "SKIFFSNP" {
		return 0, false
	}
	rev, n := binary.Uvarint(head[fixed:])
	if n <= 0 {
		return 0, false
	}
	if _, m := binary.Uvarint(head[fixed+n:]); m <= 0 {
		return 0, false
	}
	return rev, true
}

func encodeBackupHeader(info BackupInfo) []byte {
	js, _ := json.Marshal(info) // plain fields: cannot fail
	b := append([]byte(backupMagic), backupVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
	b = append(b, js...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, backupCRC))
}

// ReadBackupHeader reads and checks a backup file's header from r, leaving r
// at the start of the body. The error says what is wrong with the file.
func ReadBackupHeader(r io.Reader) (BackupInfo, error) {
	var info BackupInfo
	fixed := make([]byte, len(backupMagic)+1+4)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return info, errors.New("not a skiff backup file (too short)")
	}
	if string(fixed[:len(backupMagic)]) != backupMagic {
		return info, errors.New("not a skiff backup file")
	}
	if v := fixed[len(backupMagic)]; v != backupVersion {
		return info, fmt.Errorf("backup file format version %d; this build reads version %d", v, backupVersion)
	}
	n := binary.LittleEndian.Uint32(fixed[len(backupMagic)+1:])
	if n > backupHeaderMax {
		return info, fmt.Errorf("corrupt backup file: header of %d bytes", n)
	}
	rest := make([]byte, n+4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return info, errors.New("corrupt backup file: truncated header")
	}
	sum := crc32.Update(crc32.Checksum(fixed, backupCRC), backupCRC, rest[:n])
	if got := binary.LittleEndian.Uint32(rest[n:]); got != sum {
		return info, fmt.Errorf("corrupt backup file: header checksum %08x, computed %08x", got, sum)
	}
	if err := json.Unmarshal(rest[:n], &info); err != nil {
		return info, fmt.Errorf("corrupt backup file: header: %v", err)
	}
	if info.Format != backupVersion {
		return info, fmt.Errorf("backup file format version %d; this build reads version %d", info.Format, backupVersion)
	}
	return info, nil
}

// Restore replaces the data of the whole cluster, every database on every
// member, with the backup file read from r, and returns its header. The
// membership is unchanged. It may be called on any node: the restore runs on
// the leader (a follower streams the body to it) through Raft's snapshot
// install, so every member, and any member added later, holds the restored
// state. It blocks until a quorum has it.
//
// Nothing changes unless all of r is a valid backup: the header is checked
// first (magic, version, checksum, number of databases), and the body is
// received and decoded in full before raft takes it. A refused file is an
// ErrInvalidArgument saying why. Other errors are the replication layer's
// (engine.ErrNoLeader, engine.ErrNotLeader: nothing changed, retry;
// engine.ErrOutcomeUnknown: the restore may or may not have happened), or
// reading r (nothing changed). Writes in flight when the restore takes
// effect fail with engine.ErrOutcomeUnknown. ErrUnimplemented on a node
// without replication.
func (s *Server) Restore(ctx context.Context, r io.Reader) (BackupInfo, error) {
	rs, ok := s.cluster.(Restorer)
	if !ok {
		return BackupInfo{}, ErrUnimplemented
	}
	start := time.Now()
	info, err := s.restore(ctx, rs, r)
	if err != nil {
		s.log.Warn("restore failed", "err", err)
		return info, err
	}
	s.log.Info("cluster restored from a backup", "revision", info.Revision, "backup_node_id", info.NodeID,
		"backup_created", info.Created, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	return info, nil
}

func (s *Server) restore(ctx context.Context, rs Restorer, r io.Reader) (BackupInfo, error) {
	refused := func(why string) error {
		return fmt.Errorf("%w: backup refused, nothing was changed: %s", ErrInvalidArgument, why)
	}
	info, err := ReadBackupHeader(r)
	if err != nil {
		return info, refused(err.Error())
	}
	if n := s.eng.Store().Databases(); info.Databases != n {
		return info, refused(fmt.Sprintf("the backup holds %d databases, this cluster has %d (--databases)", info.Databases, n))
	}
	err = rs.Restore(&ctxReader{ctx: ctx, stop: s.ctx, r: r})
	switch {
	case errors.Is(err, store.ErrSnapshotCorrupt), errors.Is(err, store.ErrSnapshotVersion), errors.Is(err, store.ErrSnapshotMismatch):
		return info, refused(err.Error())
	case err != nil:
		return info, err
	}
	return info, nil
}

// ctxReader fails reads once ctx or stop ends (the client went away, or the
// node shuts down), which abandons a restore before anything changed.
type ctxReader struct {
	ctx, stop context.Context
	r         io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if err := c.stop.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Restorer is implemented by the node's Cluster (replication.Raft.Restore):
// replace the whole cluster's state with a store snapshot stream. It is not
// part of Cluster so that test doubles of Cluster need not implement it; a
// Cluster without it makes Restore answer ErrUnimplemented.
type Restorer interface {
	Restore(r io.Reader) error
}

// snapshotTimer is implemented by the node's Cluster: when this node last
// completed a Raft snapshot (zero: never).
type snapshotTimer interface{ LastSnapshotTime() time.Time }

// lastSave returns the unix time LASTSAVE reports: the last snapshot this
// node completed (raft's own, SAVE or BGSAVE), or the server start.
func (s *Server) lastSave() int64 {
	t := s.fam.lastSave.Load()
	if st, ok := s.cluster.(snapshotTimer); ok {
		if at := st.LastSnapshotTime(); !at.IsZero() {
			t = max(t, at.Unix())
		}
	}
	if t != 0 {
		return t
	}
	return s.started.Unix()
}

// bgsave starts a snapshot in the background (BGSAVE); false when one is
// already running.
func (s *Server) bgsave() bool {
	if !s.fam.bgsaving.CompareAndSwap(false, true) {
		return false
	}
	go func() {
		defer s.fam.bgsaving.Store(false)
		if err := s.save(); err != nil {
			s.log.Warn("BGSAVE failed", "err", err)
		}
	}()
	return true
}

// save takes a Raft snapshot of this node now (SAVE, BGSAVE): the durable
// form skiff has of Redis's RDB file. A snapshot refused because nothing was
// applied since the last one counts as done: that one holds the state.
func (s *Server) save() error {
	before := s.cluster.Status()
	if err := s.cluster.Snapshot(); err != nil {
		if after := s.cluster.Status(); after.LastSnapshot < before.LogApplied || after.LastSnapshot == 0 {
			return err
		}
	}
	s.fam.lastSave.Store(time.Now().Unix())
	s.fam.saveBase.Store(s.writeCalls())
	return nil
}
