package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// With requirepass, gRPC and REST want the password too (RESP's AUTH);
// probes stay open.
func TestNode_FrontDoorsRequirePassword(t *testing.T) {
	n := nodetest.Start(t, func(c *config.Config) { c.RequirePass = "s3cret" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	get := func(path, auth string) int {
		req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get("/v1/kv/k", ""); code != 401 {
		t.Fatalf("REST without the password: %d, want 401", code)
	}
	if code := get("/v1/kv/k", "Bearer wrong"); code != 401 {
		t.Fatalf("REST with a wrong password: %d, want 401", code)
	}
	if code := get("/v1/kv/k", "Bearer s3cret"); code != 404 {
		t.Fatalf("REST with the password: %d, want 404 (no such key)", code)
	}
	if code := get("/healthz", ""); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}

	conn, err := grpc.NewClient(n.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv := skiffv1.NewKVClient(conn)
	if _, err := kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("k"), Value: []byte("v")}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("gRPC without the password: %v", err)
	}
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret")
	if _, err := kv.Put(actx, &skiffv1.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatalf("gRPC with the password: %v", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil && !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Fatalf("health without the password: %v", err)
	}
}
