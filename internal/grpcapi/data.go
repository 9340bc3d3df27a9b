package grpcapi

import (
	"context"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	datapb "github.com/skiffdb/skiff/gen/data"
	"github.com/skiffdb/skiff/internal/command"
)

// dataService implements data.DataService, the original lookup service:
// Fetch is a linearizable Get of the key in database 0.
type dataService struct {
	datapb.UnimplementedDataServiceServer
	s *Server
}

func (d *dataService) Fetch(ctx context.Context, req *datapb.DataRequest) (*datapb.DataResponse, error) {
	if req.GetKey() == "" {
		return nil, invalidArg("key must not be empty")
	}
	kv, err := d.s.api.Get(ctx, command.GetRequest{Key: []byte(req.GetKey()), Consistency: command.Linearizable})
	if err != nil {
		return nil, err
	}
	// A proto3 string must be UTF-8 (marshalling would fail with an opaque
	// INTERNAL); say what is wrong and where to read it instead.
	if !utf8.Valid(kv.Value) {
		return nil, status.Error(codes.FailedPrecondition, "the value is not valid UTF-8, which data.DataResponse.value (a string) cannot carry: read it with skiff.v1.KV/Get")
	}
	return &datapb.DataResponse{Value: string(kv.Value)}, nil
}
