package testcluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/testcluster"
)

func grpcConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func httpDo(t *testing.T, method, url string, body []byte, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 20 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// Every front door on every node of a 3-node cluster: a key written over
// one protocol on one node reads the same over the others on every node;
// followers forward; health, readiness and reflection work everywhere.
func TestCluster_FrontDoorsOnEveryNode(t *testing.T) {
	c := testcluster.Start(t, 3)
	c.WaitLeader()
	for i, m := range c.Nodes {
		if m.GRPCAddr == "" || m.HTTPAddr == "" {
			t.Fatalf("member %d has no gRPC/REST address", i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for i, m := range c.Nodes {
		kv := skiffv1.NewKVClient(grpcConn(t, m.GRPCAddr))
		base := "http://" + m.HTTPAddr
		// gRPC write on node i, read over REST and RESP on the next node.
		next := c.Nodes[(i+1)%3]
		key := fmt.Sprintf("g%d", i)
		put, err := kv.Put(ctx, &skiffv1.PutRequest{Key: []byte(key), Value: []byte("via-grpc")})
		if err != nil || !put.GetWritten() || put.GetRevision() == 0 {
			t.Fatalf("node %d gRPC Put: %v %v", i, put, err)
		}
		code, hdr, body := httpDo(t, "GET", "http://"+next.HTTPAddr+"/v1/kv/"+key, nil)
		if code != 200 || string(body) != "via-grpc" || hdr.Get("ETag") != `"`+strconv.FormatUint(put.GetRevision(), 10)+`"` {
			t.Fatalf("REST GET on node %d of a gRPC write: %d %q etag %q (revision %d)", (i+1)%3, code, body, hdr.Get("ETag"), put.GetRevision())
		}
		if v, err := c.Client(next.Index).Get(ctx, key).Result(); err != nil || v != "via-grpc" {
			t.Fatalf("RESP GET of a gRPC write: %q %v", v, err)
		}
		// REST write, gRPC and data.DataService read on the next node.
		rkey := fmt.Sprintf("r%d", i)
		if code, _, body := httpDo(t, "PUT", base+"/v1/kv/"+rkey, []byte("via-rest")); code != 200 {
			t.Fatalf("node %d REST PUT: %d %s", i, code, body)
		}
		nkv := skiffv1.NewKVClient(grpcConn(t, next.GRPCAddr))
		got, err := nkv.Get(ctx, &skiffv1.GetRequest{Key: []byte(rkey)})
		if err != nil || string(got.GetKv().GetValue()) != "via-rest" {
			t.Fatalf("gRPC Get of a REST write: %v %v", got, err)
		}
		fetched, err := datapb.NewDataServiceClient(grpcConn(t, next.GRPCAddr)).Fetch(ctx, &datapb.DataRequest{Key: rkey})
		if err != nil || fetched.GetValue() != "via-rest" {
			t.Fatalf("DataService.Fetch: %v %v", fetched, err)
		}
		// RESP write, both APIs read here.
		skey := fmt.Sprintf("s%d", i)
		if err := c.Client(next.Index).Set(ctx, skey, "via-resp", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := kv.Get(ctx, &skiffv1.GetRequest{Key: []byte(skey)}); err != nil || string(got.GetKv().GetValue()) != "via-resp" {
			t.Fatalf("gRPC Get of a RESP write: %v %v", got, err)
		}
		if code, _, body := httpDo(t, "GET", base+"/v1/kv/"+skey, nil); code != 200 || string(body) != "via-resp" {
			t.Fatalf("REST GET of a RESP write: %d %q", code, body)
		}

		// Errors map the same way everywhere.
		if _, err := kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("missing")}); status.Code(err) != codes.NotFound {
			t.Fatalf("gRPC Get missing: %v", err)
		}
		c.Client(next.Index).LPush(ctx, "alist", "x")
		if _, err := kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("alist")}); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("gRPC Get of a list: %v", err)
		}
		if code, _, body := httpDo(t, "GET", base+"/v1/kv/alist", nil); code != 409 || !strings.Contains(string(body), `"wrong_type"`) {
			t.Fatalf("REST GET of a list: %d %s", code, body)
		}

		// Compare-and-set and a transaction through this node.
		cur, _ := kv.Get(ctx, &skiffv1.GetRequest{Key: []byte(key)})
		stale, err := kv.Put(ctx, &skiffv1.PutRequest{Key: []byte(key), Value: []byte("x"), IfRevision: cur.GetKv().GetRevision() + 1000})
		if err != nil || stale.GetWritten() {
			t.Fatalf("CAS with a stale revision: %v %v", stale, err)
		}
		txn, err := kv.Txn(ctx, &skiffv1.TxnRequest{
			Compares: []*skiffv1.Compare{{Key: []byte(key), Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Revision{Revision: cur.GetKv().GetRevision()}}},
			ThenOps:  []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte(key + ":t"), Value: []byte("then")}}}},
			ElseOps:  []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte(key + ":t"), Value: []byte("else")}}}},
		})
		if err != nil || !txn.GetSucceeded() {
			t.Fatalf("Txn: %v %v", txn, err)
		}
		if v, _ := c.Client(next.Index).Get(ctx, key+":t").Result(); v != "then" {
			t.Fatalf("Txn's then branch not applied: %q", v)
		}

		// Health, readiness and reflection on every node. A follower is
		// ready once it has applied what it knows committed: it may be an
		// entry behind just after the writes above, so poll.
		hcl := healthpb.NewHealthClient(grpcConn(t, m.GRPCAddr))
		c.Eventually(func() error {
			hc, err := hcl.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("node %d health: %v %v", i, hc, err)
			}
			if code, _, body := httpDo(t, "GET", base+"/readyz", nil); code != 200 {
				return fmt.Errorf("node %d /readyz: %d %s", i, code, body)
			}
			return nil
		})
		st, err := skiffv1.NewClusterClient(grpcConn(t, m.GRPCAddr)).Status(ctx, &skiffv1.StatusRequest{})
		if err != nil || len(st.GetMembers()) != 3 || st.GetLeaderId() == "" {
			t.Fatalf("node %d Cluster.Status: %v %v", i, st, err)
		}
		if code, _, body := httpDo(t, "GET", base+"/v1/cluster", nil); code != 200 || !strings.Contains(string(body), st.GetLeaderId()) {
			t.Fatalf("node %d GET /v1/cluster: %d %s", i, code, body)
		}
		stream, err := reflectionpb.NewServerReflectionClient(grpcConn(t, m.GRPCAddr)).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		ls, err := stream.Recv()
		if err != nil || len(ls.GetListServicesResponse().GetService()) < 4 {
			t.Fatalf("node %d reflection list: %v %v", i, ls, err)
		}
		_ = stream.CloseSend()
	}

	// Range over gRPC and REST on a follower: the same keys, paged.
	f := c.Followers()[0]
	kv := skiffv1.NewKVClient(grpcConn(t, f.GRPCAddr))
	var keys []string
	token := ""
	for {
		r, err := kv.Range(ctx, &skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Prefix{Prefix: []byte("g")}, Limit: 2, PageToken: token, KeysOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.GetKvs() {
			keys = append(keys, string(e.GetKey()))
		}
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	want := "g0 g0:t g1 g1:t g2 g2:t"
	if strings.Join(keys, " ") != want {
		t.Fatalf("gRPC Range pages: %v, want %s", keys, want)
	}
	code, _, body := httpDo(t, "GET", "http://"+f.HTTPAddr+"/v1/kv?prefix=g&keys_only=true&limit=100", nil)
	var page struct {
		KVs []struct{ Key string } `json:"kvs"`
	}
	if err := json.Unmarshal(body, &page); code != 200 || err != nil || len(page.KVs) != 6 {
		t.Fatalf("REST range: %d %s %v", code, body, err)
	}
}

// A gRPC watch on a follower, the leader killed, resumed on another node
// from the last token received: every acknowledged write is seen exactly
// once, in order; a token from before the retained history is refused with
// the oldest available point.
func TestCluster_GRPCWatchResumesAcrossFailover(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	fs := c.Followers()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	type seen struct {
		key string
		rev uint64
	}
	var got []seen
	lastToken, firstToken := "", ""
	watch := func(addr string, stopAfter int) error {
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		ws, err := skiffv1.NewKVClient(grpcConn(t, addr)).Watch(wctx, &skiffv1.WatchRequest{Key: []byte("w:"), Prefix: true, StartToken: lastToken})
		if err != nil {
			return err
		}
		for len(got) < stopAfter {
			r, err := ws.Recv()
			if err != nil {
				return err
			}
			for _, e := range r.GetEvents() {
				got = append(got, seen{string(e.GetKey()), e.GetRevision()})
				lastToken = e.GetToken()
			}
			if r.GetToken() != "" && len(r.GetEvents()) == 0 {
				lastToken = r.GetToken() // progress
			}
		}
		return nil
	}

	// First watch on follower 0, started before any write.
	first := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		ws, err := skiffv1.NewKVClient(grpcConn(t, fs[0].GRPCAddr)).Watch(wctx, &skiffv1.WatchRequest{Key: []byte("w:"), Prefix: true})
		if err != nil {
			first <- err
			return
		}
		close(ready)
		for {
			r, err := ws.Recv()
			if err != nil {
				first <- err
				return
			}
			for _, e := range r.GetEvents() {
				got = append(got, seen{string(e.GetKey()), e.GetRevision()})
				lastToken = e.GetToken()
				if firstToken == "" {
					firstToken = e.GetToken()
				}
			}
			if len(r.GetEvents()) == 0 && r.GetToken() != "" && lastToken == "" {
				lastToken = r.GetToken()
			}
			if len(got) >= 50 {
				first <- nil
				return
			}
		}
	}()
	select {
	case <-ready:
	case err := <-first:
		t.Fatal(err)
	}
	w := c.Client(fs[1].Index)
	var acked []string
	for i := range 120 {
		if i == 60 {
			c.Kill(leader.Index)
		}
		k := fmt.Sprintf("w:%03d", i)
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := w.Set(ctx, k, i, 0).Err()
			if err == nil {
				acked = append(acked, k)
				break
			}
			if !retriable(err) || time.Now().After(deadline) {
				t.Fatalf("write %d: %v", i, err)
			}
			if strings.Contains(err.Error(), "outcome is unknown") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := <-first; err != nil {
		t.Fatalf("first watch: %v", err)
	}
	// Resume on the other follower from the last token.
	if err := watch(fs[1].GRPCAddr, len(acked)); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("resumed watch: %v", err)
	}
	idx := map[string]int{}
	for i, s := range got {
		if _, dup := idx[s.key]; dup {
			t.Fatalf("event for %s seen twice", s.key)
		}
		idx[s.key] = i
		if i > 0 && s.rev <= got[i-1].rev {
			t.Fatalf("revisions out of order at %d: %v", i, got[i-1:i+1])
		}
	}
	for _, k := range acked {
		if _, ok := idx[k]; !ok {
			t.Fatalf("acknowledged write %s never seen by the watch (saw %d events)", k, len(got))
		}
	}

	// A token from before the retained history: OUT_OF_RANGE naming the
	// oldest point, over gRPC and (410) over REST.
	node := c.Nodes[fs[1].Index]
	node.Node().Command().SetWatchOptions(command.WatchOptions{HistoryEvents: 10})
	for i := range 20 {
		if err := w.Set(ctx, fmt.Sprintf("w:late%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := skiffv1.NewKVClient(grpcConn(t, node.GRPCAddr)).Watch(ctx, &skiffv1.WatchRequest{Key: []byte("w:"), Prefix: true, StartToken: firstToken})
	if err == nil {
		_, err = ws.Recv()
	}
	if status.Code(err) != codes.OutOfRange || !strings.Contains(status.Convert(err).Message(), "oldest") {
		t.Fatalf("watch from a compacted token: %v", err)
	}
	code, _, body := httpDo(t, "GET", "http://"+node.HTTPAddr+"/v1/watch?prefix=w:&from="+url.QueryEscape(firstToken), nil)
	if code != 410 || !strings.Contains(string(body), "oldest_token") {
		t.Fatalf("REST watch from a compacted token: %d %s", code, body)
	}
}
