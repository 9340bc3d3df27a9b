package grpcapi

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
)

// errQueueUnimplemented answers every skiff.v1.Queue call until streams
// and consumer groups exist in the store: the service is designed
// (proto/skiff/v1/queue.proto) but has nothing to run on yet.
var errQueueUnimplemented = status.Error(codes.Unimplemented,
	"skiff.v1.Queue is not implemented yet: it runs on Redis streams with consumer groups, which this skiff version does not have")

// queueService implements skiff.v1.Queue: UNIMPLEMENTED for now.
type queueService struct {
	skiffv1.UnimplementedQueueServer
}

func (queueService) Enqueue(context.Context, *skiffv1.EnqueueRequest) (*skiffv1.EnqueueResponse, error) {
	return nil, errQueueUnimplemented
}

func (queueService) Receive(context.Context, *skiffv1.ReceiveRequest) (*skiffv1.ReceiveResponse, error) {
	return nil, errQueueUnimplemented
}

func (queueService) ReceiveStream(*skiffv1.ReceiveRequest, grpc.ServerStreamingServer[skiffv1.ReceiveResponse]) error {
	return errQueueUnimplemented
}

func (queueService) Ack(context.Context, *skiffv1.AckRequest) (*skiffv1.AckResponse, error) {
	return nil, errQueueUnimplemented
}

func (queueService) Nack(context.Context, *skiffv1.NackRequest) (*skiffv1.NackResponse, error) {
	return nil, errQueueUnimplemented
}
