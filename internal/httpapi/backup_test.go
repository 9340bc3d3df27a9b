package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// fakeBackups is the fake keyspace API with backups and restores.
type fakeBackups struct {
	*fakeAPI
	backup  func(w io.Writer) (command.BackupInfo, int64, error)
	restore func(r io.Reader) (command.BackupInfo, error)
}

func (f *fakeBackups) Backup(ctx context.Context, w io.Writer) (command.BackupInfo, int64, error) {
	return f.backup(w)
}

func (f *fakeBackups) Restore(ctx context.Context, r io.Reader) (command.BackupInfo, error) {
	return f.restore(r)
}

// transfer sends one request and returns the error of reading the answer
// (a cut transfer) instead of failing the test.
func (e *env) transfer(method, path string, body io.Reader) (*http.Response, []byte, error) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// TestBackup_FileOfTheStore: GET /v1/backup over the real command layer
// answers a backup file whose header checks and whose body restores into
// an identical store.
func TestBackup_FileOfTheStore(t *testing.T) {
	api := newCommandServer(t, nil)
	requireAPI(t, api, false)
	for _, k := range []string{"a", "b/c", "\x00bin"} {
		if _, err := api.Put(context.Background(), command.PutRequest{Key: []byte(k), Value: []byte("v-" + k), TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, api, Options{})
	resp, body, err := e.transfer("GET", "/v1/backup", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/backup: %v %v %q", resp, err, body)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/octet-stream" ||
		!strings.HasPrefix(cd, `attachment; filename="skiff-`) || !strings.HasSuffix(cd, `.skiffbak"`) {
		t.Fatalf("headers %q %q", ct, cd)
	}
	r := bytes.NewReader(body)
	info, err := command.ReadBackupHeader(r)
	if err != nil || info.Format != 1 || info.Databases != 16 || info.Revision == 0 || info.Version != "9.9.9-test" || info.Created.IsZero() {
		t.Fatalf("header %+v %v", info, err)
	}
	st := store.New(store.Options{})
	if err := st.Restore(r); err != nil {
		t.Fatal(err)
	}
	if st.CurrentRevision() != info.Revision {
		t.Fatalf("restored revision %d, header says %d", st.CurrentRevision(), info.Revision)
	}
	// The same keys, values and deadlines as the served store.
	now := time.Now().UnixMilli()
	for _, k := range []string{"a", "b/c", "\x00bin"} {
		v, _, _ := st.Get(0, []byte(k), now)
		at, ok := st.Deadline(0, []byte(k), now)
		kv, err := api.Get(context.Background(), command.GetRequest{Key: []byte(k)})
		if err != nil || string(v) != string(kv.Value) || !ok || at != kv.ExpireAt || at < now+59*60*1000 {
			t.Fatalf("key %q restored as %q (deadline %d %v), served %+v %v", k, v, at, ok, kv, err)
		}
	}
	if _, body, _ := e.transfer("GET", "/v1/backup?x=1", nil); !bytes.Contains(body, []byte("invalid_argument")) {
		t.Fatalf("unknown query parameter: %s", body)
	}
	// Restore needs replication: a node without it answers 501.
	if resp, body, _ := e.transfer("POST", "/v1/restore", bytes.NewReader(body)); resp.StatusCode != 501 {
		t.Fatalf("restore without replication: %d %s", resp.StatusCode, body)
	}
}

// TestBackup_Failures: an error before the first byte is a JSON error; one
// after it cuts the transfer, so the client cannot take it for a whole file.
func TestBackup_Failures(t *testing.T) {
	f := &fakeBackups{fakeAPI: newFakeAPI()}
	e := newEnv(t, f, Options{})
	f.backup = func(io.Writer) (command.BackupInfo, int64, error) { return command.BackupInfo{}, 0, engine.ErrNoLeader }
	resp, body, err := e.transfer("GET", "/v1/backup", nil)
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/json" || !bytes.Contains(body, []byte("unavailable")) {
		t.Fatalf("no leader: %v %v %s", resp, err, body)
	}
	f.backup = func(w io.Writer) (command.BackupInfo, int64, error) {
		n, _ := w.Write(bytes.Repeat([]byte("x"), 100<<10))
		return command.BackupInfo{}, int64(n), errors.New("disk on fire")
	}
	if resp, body, err := e.transfer("GET", "/v1/backup", nil); err == nil {
		t.Fatalf("a backup failing mid-transfer read as complete: %d, %d bytes", resp.StatusCode, len(body))
	}
	// Without the backup methods: 501.
	e2 := newEnv(t, newFakeAPI(), Options{})
	if resp, _, _ := e2.transfer("GET", "/v1/backup", nil); resp.StatusCode != 501 {
		t.Fatalf("no backups: %d", resp.StatusCode)
	}
}

// TestRestore_Translation: the body reaches Restore whole, beyond the
// request body limit; the answer is the backup's header; a refused file is
// 400 with the reason.
func TestRestore_Translation(t *testing.T) {
	f := &fakeBackups{fakeAPI: newFakeAPI()}
	e := newEnv(t, f, Options{MaxBodyBytes: 1000})
	var got []byte
	created := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.restore = func(r io.Reader) (command.BackupInfo, error) {
		var err error
		got, err = io.ReadAll(r)
		return command.BackupInfo{Format: 1, NodeID: "n2", Revision: 42, Databases: 16, Created: created, Version: "1.2.3"}, err
	}
	file := bytes.Repeat([]byte("0123456789"), 10000)
	resp, body, err := e.transfer("POST", "/v1/restore", bytes.NewReader(file))
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, file) {
		t.Fatalf("restore: %v %v %s (%d bytes reached Restore)", resp, err, body, len(got))
	}
	var ans map[string]any
	if err := json.Unmarshal(body, &ans); err != nil || ans["restored"] != true || ans["revision"] != 42.0 || ans["node_id"] != "n2" ||
		ans["created"] != "2030-01-02T03:04:05Z" || ans["databases"] != 16.0 || ans["skiff_version"] != "1.2.3" {
		t.Fatalf("answer %s", body)
	}
	f.restore = func(r io.Reader) (command.BackupInfo, error) {
		return command.BackupInfo{}, errors.Join(command.ErrInvalidArgument, errors.New("backup refused, nothing was changed: not a skiff backup file"))
	}
	resp, body, _ = e.transfer("POST", "/v1/restore", strings.NewReader("junk"))
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("not a skiff backup file")) {
		t.Fatalf("refused: %d %s", resp.StatusCode, body)
	}
	if resp, _, _ := e.transfer("POST", "/v1/restore?force=1", strings.NewReader("junk")); resp.StatusCode != 400 {
		t.Fatalf("unknown query parameter: %d", resp.StatusCode)
	}
}
