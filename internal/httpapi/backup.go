package httpapi

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/skiffdb/skiff/internal/command"
)

// backupAPI is the part of *command.Server that backups and restores use.
// It is not in keyspace so translation fakes need not implement it; without
// it both endpoints answer 501.
type backupAPI interface {
	Backup(ctx context.Context, w io.Writer) (command.BackupInfo, int64, error)
	Restore(ctx context.Context, r io.Reader) (command.BackupInfo, error)
}

var _ backupAPI = (*command.Server)(nil)

func (h *Handler) backupAPI() (backupAPI, error) {
	if b, ok := h.api.(backupAPI); ok {
		return b, nil
	}
	return nil, command.ErrUnimplemented
}

// backup: GET /v1/backup streams a backup file (command.Server.Backup: a
// small header and the store's snapshot stream) of every database, taken by
// the node asked, leader or follower, and holding every write acknowledged
// before the request. The length is not known in advance: a backup that
// fails after its first byte ends the response without its final chunk, so
// a client sees a truncated transfer, never a short file that looks whole
// (and the file's own checksums catch what the transfer would not).
func (h *Handler) backup(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		h.fail(w, r, err)
		return
	}
	api, err := h.backupAPI()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	bw := &backupResponse{w: w, name: "skiff-" + time.Now().UTC().Format("20060102T150405Z") + ".skiffbak"}
	_, n, err := api.Backup(r.Context(), bw)
	switch {
	case err == nil:
	case !bw.started:
		h.fail(w, r, err)
	default:
		h.log.Warn("backup failed mid-transfer: response cut", "remote_addr", r.RemoteAddr, "bytes", n, "err", err)
		panic(http.ErrAbortHandler) // no final chunk: the client sees the transfer fail
	}
}

// backupResponse sets the response headers at the first byte, so an error
// before it can still be answered as JSON.
type backupResponse struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (b *backupResponse) Write(p []byte) (int, error) {
	if !b.started {
		b.started = true
		hdr := b.w.Header()
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Content-Disposition", `attachment; filename="`+b.name+`"`)
		hdr.Set("Cache-Control", "no-store")
	}
	return b.w.Write(p)
}

// restoreJSON is the answer of POST /v1/restore: the restored backup's
// header.
type restoreJSON struct {
	Restored     bool      `json:"restored"`
	Revision     uint64    `json:"revision"`
	NodeID       string    `json:"node_id"`
	Created      time.Time `json:"created"`
	Databases    int       `json:"databases"`
	SkiffVersion string    `json:"skiff_version"`
}

// restore: POST /v1/restore with a backup file as the body replaces the
// data of the whole cluster (every database on every member) with it, on
// any node (a follower streams it to the leader). The body is not bound by
// MaxBodyBytes. A file that is not a valid backup is refused with 400
// invalid_argument and nothing changes; 200 with the backup's header once a
// quorum holds the restored state.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		h.fail(w, r, err)
		return
	}
	api, err := h.backupAPI()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	info, err := api.Restore(r.Context(), r.Body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, restoreJSON{Restored: true, Revision: info.Revision, NodeID: info.NodeID,
		Created: info.Created, Databases: info.Databases, SkiffVersion: info.Version})
}
