// Package grpcapi is skiff's gRPC front door: the skiff.v1 services KV,
// Queue and Cluster, the original data.DataService, the standard
// grpc.health.v1.Health service and server reflection (so grpcurl's list and
// describe work), on one listener (127.0.0.1:50051 by default; the node
// binds it and calls Serve).
//
// The services are thin translators onto the keyspace API of
// internal/command (command.Server's Get, Put, Range, Txn, Watch ...): they
// turn a protobuf request into the API's request, call it, and turn its
// reply or error back. Semantics, routing (a follower forwards to the
// leader), consistency, replication and validation live there, shared with
// RESP and REST; this package adds only what is specific to gRPC:
//
//   - translation, including the checks the protobuf shape needs (an empty
//     key, an unset oneof or enum, an invalid Duration, a malformed page
//     token) and the encoding of Range's opaque page token;
//   - errors.go, the one table from the sentinels of command, store and
//     engine to gRPC codes (tested to cover every sentinel);
//   - health, which is SERVING while command.Server.Ready reports the node
//     has a leader and has applied its log (to within 1000 entries);
//   - interceptors that turn a panic in a handler into INTERNAL instead of
//     a crash.
//
// Limits: a request is at most 4 MiB (maxRecvMsgSize, gRPC's default), so a
// key or value written here is at most about that; keys have no smaller
// limit of their own, as in Redis. Responses are not bounded by the server
// (a value written over RESP, up to 512 MiB, can be read here), but gRPC
// clients refuse responses over 4 MiB by default: a client reading large
// values, or large Range pages, raises its receive limit
// (grpc.MaxCallRecvMsgSize) or lowers the page size.
//
// It must not import node, replication, respserver or anything that wires;
// internal/arch enforces its allowed imports (command, engine, store and the
// generated packages under gen/).
package grpcapi
