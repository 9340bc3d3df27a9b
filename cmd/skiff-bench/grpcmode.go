package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
)

// Mode "grpc": skiff's gRPC KV service. Tests "put" (KV.Put of key:<digits>
// with a -d byte value) and "get" (KV.Get of the same keys, linearizable).
// Each connection is its own gRPC client connection with unary calls one at
// a time (-P must be 1), as etcd's benchmark tool sends them. A call that
// fails with a status counts as an error reply (a Get of a key never
// written is NOT_FOUND: run put first, with the same -r).
func grpcTests(cfg *config) ([]benchTest, error) {
	if cfg.pipeline != 1 {
		return nil, fmt.Errorf("-mode grpc sends one request at a time per connection: -P must be 1")
	}
	data := bytes.Repeat([]byte{'x'}, cfg.dataSize)
	var tests []benchTest
	for _, name := range cfg.tests {
		if name != "put" && name != "get" {
			return nil, fmt.Errorf("unknown test %q for mode grpc (known: put, get)", name)
		}
		addr, keyspace := cfg.addr, uint64(cfg.keyspace)
		tests = append(tests, benchTest{
			name:  name,
			title: "gRPC KV." + map[string]string{"put": "Put", "get": "Get"}[name],
			open: func(_ int, deadline time.Time) (worker, error) {
				return newGRPCWorker(addr, name, data, keyspace)
			},
		})
	}
	return tests, nil
}

type grpcWorker struct {
	conn     *grpc.ClientConn
	kv       skiffv1.KVClient
	put      bool
	data     []byte
	keyspace uint64
	key      []byte
	ctx      context.Context
	cancel   context.CancelFunc
}

func newGRPCWorker(addr, name string, data []byte, keyspace uint64) (*grpcWorker, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &grpcWorker{
		conn: conn, kv: skiffv1.NewKVClient(conn), put: name == "put", data: data, keyspace: keyspace,
		key: []byte("key:" + randTag), ctx: ctx, cancel: cancel,
	}, nil
}

func (w *grpcWorker) do(k int, h *histogram) (int, int, error) {
	errs := 0
	for i := range k {
		if w.keyspace > 0 {
			putDigits(w.key[4:], rand.Uint64N(w.keyspace))
		}
		start := time.Now()
		var err error
		if w.put {
			_, err = w.kv.Put(w.ctx, &skiffv1.PutRequest{Key: w.key, Value: w.data})
		} else {
			_, err = w.kv.Get(w.ctx, &skiffv1.GetRequest{Key: w.key})
		}
		if err != nil {
			st, ok := status.FromError(err)
			if !ok || st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded || st.Code() == codes.Unavailable && w.ctx.Err() != nil {
				return i, errs, fmt.Errorf("gRPC call: %w", err)
			}
			errs++
		}
		h.record(time.Since(start))
	}
	return k, errs, nil
}

func (w *grpcWorker) setDeadline(t time.Time) error {
	w.cancel()
	w.ctx, w.cancel = context.WithDeadline(context.Background(), t)
	return nil
}

func (w *grpcWorker) close() error {
	w.cancel()
	return w.conn.Close()
}
