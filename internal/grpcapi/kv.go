package grpcapi

import (
	"context"
	"encoding/base64"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
)

// minProgressInterval is the shortest Watch progress interval accepted: a
// shorter one would make the server spin sending notifications.
const minProgressInterval = 100 * time.Millisecond

// kvService implements skiff.v1.KV over the keyspace API. Handlers return
// the API's errors as they are; the interceptor maps them (errors.go).
type kvService struct {
	skiffv1.UnimplementedKVServer
	s *Server
}

func (k *kvService) Get(ctx context.Context, req *skiffv1.GetRequest) (*skiffv1.GetResponse, error) {
	r, err := getRequest(req)
	if err != nil {
		return nil, err
	}
	kv, err := k.s.api.Get(ctx, r)
	if err != nil {
		return nil, err
	}
	return &skiffv1.GetResponse{Kv: keyValue(kv)}, nil
}

func (k *kvService) Put(ctx context.Context, req *skiffv1.PutRequest) (*skiffv1.PutResponse, error) {
	r, err := putRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := k.s.api.Put(ctx, r)
	if err != nil {
		return nil, err
	}
	return &skiffv1.PutResponse{Written: resp.Written, Revision: resp.Revision}, nil
}

func (k *kvService) Delete(ctx context.Context, req *skiffv1.DeleteRequest) (*skiffv1.DeleteResponse, error) {
	if len(req.GetKey()) == 0 {
		return nil, invalidArg("key must not be empty")
	}
	resp, err := k.s.api.Delete(ctx, command.DeleteRequest{DB: int(req.GetDb()), Key: req.GetKey(), IfRevision: req.GetIfRevision()})
	if err != nil {
		return nil, err
	}
	return &skiffv1.DeleteResponse{Deleted: resp.Deleted, Revision: resp.Revision}, nil
}

func (k *kvService) Range(ctx context.Context, req *skiffv1.RangeRequest) (*skiffv1.RangeResponse, error) {
	r, err := rangeRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := k.s.api.Range(ctx, r)
	if err != nil {
		return nil, err
	}
	return rangeResponse(resp), nil
}

func (k *kvService) Txn(ctx context.Context, req *skiffv1.TxnRequest) (*skiffv1.TxnResponse, error) {
	r, err := txnRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := k.s.api.Txn(ctx, r)
	if err != nil {
		return nil, err
	}
	return &skiffv1.TxnResponse{Succeeded: resp.Succeeded, Revision: resp.Revision}, nil
}

// Watch streams the API's events until the caller cancels, the server
// stops (UNAVAILABLE: resume elsewhere from the last token) or the API
// returns an error (mapped by the interceptor: OUT_OF_RANGE for a compacted
// token ...).
func (k *kvService) Watch(req *skiffv1.WatchRequest, stream grpc.ServerStreamingServer[skiffv1.WatchResponse]) error {
	r, err := watchRequest(req)
	if err != nil {
		return err
	}
	ctx, cancel := k.s.streamContext(stream)
	defer cancel()
	err = k.s.api.Watch(ctx, r, func(ev command.WatchEvent) error {
		return stream.Send(watchResponse(ev))
	})
	if k.s.ctx.Err() != nil && stream.Context().Err() == nil {
		return errShuttingDown
	}
	return err
}

// Translation: protobuf -> API.

func consistency(c skiffv1.Consistency) (command.Consistency, error) {
	switch c {
	case skiffv1.Consistency_CONSISTENCY_UNSPECIFIED, skiffv1.Consistency_CONSISTENCY_LINEARIZABLE:
		return command.Linearizable, nil
	case skiffv1.Consistency_CONSISTENCY_SERIALIZABLE:
		return command.Serializable, nil
	}
	return 0, invalidArg("unknown consistency " + c.String())
}

// ttl translates a TTL: unset or zero is none; negative or invalid is an
// error; a positive one is rounded up to whole milliseconds (the store's
// resolution), so a tiny TTL never becomes "no TTL".
func ttl(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalidArg(field + ": " + err.Error())
	}
	v := d.AsDuration()
	if v < 0 {
		return 0, invalidArg(field + " must not be negative")
	}
	if r := v % time.Millisecond; r != 0 {
		v += time.Millisecond - r
	}
	return v, nil
}

func getRequest(req *skiffv1.GetRequest) (command.GetRequest, error) {
	if len(req.GetKey()) == 0 {
		return command.GetRequest{}, invalidArg("key must not be empty")
	}
	c, err := consistency(req.GetConsistency())
	if err != nil {
		return command.GetRequest{}, err
	}
	return command.GetRequest{DB: int(req.GetDb()), Key: req.GetKey(), Consistency: c}, nil
}

func putRequest(req *skiffv1.PutRequest) (command.PutRequest, error) {
	if len(req.GetKey()) == 0 {
		return command.PutRequest{}, invalidArg("key must not be empty")
	}
	t, err := ttl("ttl", req.GetTtl())
	if err != nil {
		return command.PutRequest{}, err
	}
	return command.PutRequest{
		DB: int(req.GetDb()), Key: req.GetKey(), Value: nonNil(req.GetValue()), TTL: t,
		IfAbsent: req.GetIfAbsent(), IfRevision: req.GetIfRevision(),
	}, nil
}

// nonNil returns v, or an empty non-nil slice: protobuf decodes an empty
// bytes field as nil, and the API may read nil as "no value".
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func rangeRequest(req *skiffv1.RangeRequest) (command.RangeRequest, error) {
	c, err := consistency(req.GetConsistency())
	if err != nil {
		return command.RangeRequest{}, err
	}
	r := command.RangeRequest{DB: int(req.GetDb()), Limit: int(req.GetLimit()), KeysOnly: req.GetKeysOnly(), Consistency: c}
	switch keys := req.GetKeys().(type) {
	case *skiffv1.RangeRequest_Prefix:
		r.Prefix = keys.Prefix
	case *skiffv1.RangeRequest_Range:
		r.Start, r.End = keys.Range.GetStart(), keys.Range.GetEnd()
	}
	if t := req.GetPageToken(); t != "" {
		if r.After, err = decodePageToken(t); err != nil {
			return command.RangeRequest{}, err
		}
	}
	return r, nil
}

// Page tokens: base64url (unpadded) of a version byte and the last key of
// the previous page. Opaque to callers, so the encoding may change.
const pageTokenV1 = 1

func encodePageToken(lastKey []byte) string {
	b := make([]byte, 0, 1+len(lastKey))
	b = append(b, pageTokenV1)
	b = append(b, lastKey...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(t string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) < 1 || b[0] != pageTokenV1 {
		return nil, invalidArg("malformed page_token: pass next_page_token from the previous page unchanged")
	}
	return b[1:], nil // non-nil even for the empty key (Redis allows it)
}

func compareOp(r skiffv1.Compare_Result) (command.CompareOp, error) {
	switch r {
	case skiffv1.Compare_RESULT_EQUAL:
		return command.OpEqual, nil
	case skiffv1.Compare_RESULT_NOT_EQUAL:
		return command.OpNotEqual, nil
	case skiffv1.Compare_RESULT_LESS:
		return command.OpLess, nil
	case skiffv1.Compare_RESULT_GREATER:
		return command.OpGreater, nil
	}
	return 0, invalidArg("compare result must be RESULT_EQUAL, RESULT_NOT_EQUAL, RESULT_LESS or RESULT_GREATER, not " + r.String())
}

func txnOps(branch string, ops []*skiffv1.TxnOp) ([]command.TxnOp, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	out := make([]command.TxnOp, 0, len(ops))
	for _, o := range ops {
		switch op := o.GetOp().(type) {
		case *skiffv1.TxnOp_Put:
			if len(op.Put.GetKey()) == 0 {
				return nil, invalidArg(branch + ": put key must not be empty")
			}
			t, err := ttl(branch+": put ttl", op.Put.GetTtl())
			if err != nil {
				return nil, err
			}
			out = append(out, command.TxnOp{Key: op.Put.GetKey(), Value: nonNil(op.Put.GetValue()), TTL: t})
		case *skiffv1.TxnOp_Delete:
			if len(op.Delete.GetKey()) == 0 {
				return nil, invalidArg(branch + ": delete key must not be empty")
			}
			out = append(out, command.TxnOp{Delete: true, Key: op.Delete.GetKey()})
		default:
			return nil, invalidArg(branch + ": an operation must set put or delete")
		}
	}
	return out, nil
}

func txnRequest(req *skiffv1.TxnRequest) (command.TxnRequest, error) {
	r := command.TxnRequest{DB: int(req.GetDb())}
	for _, c := range req.GetCompares() {
		if len(c.GetKey()) == 0 {
			return command.TxnRequest{}, invalidArg("compare key must not be empty")
		}
		op, err := compareOp(c.GetResult())
		if err != nil {
			return command.TxnRequest{}, err
		}
		cmp := command.Compare{Key: c.GetKey(), Op: op}
		switch t := c.GetTarget().(type) {
		case *skiffv1.Compare_Value:
			cmp.Target, cmp.Value = command.CompareValue, nonNil(t.Value)
		case *skiffv1.Compare_Revision:
			cmp.Target, cmp.Revision = command.CompareRevision, t.Revision
		case *skiffv1.Compare_Exists:
			cmp.Target, cmp.Exists = command.CompareExists, t.Exists
		default:
			return command.TxnRequest{}, invalidArg("compare must set value, revision or exists")
		}
		r.Compares = append(r.Compares, cmp)
	}
	var err error
	if r.Then, err = txnOps("then_ops", req.GetThenOps()); err != nil {
		return command.TxnRequest{}, err
	}
	if r.Else, err = txnOps("else_ops", req.GetElseOps()); err != nil {
		return command.TxnRequest{}, err
	}
	return r, nil
}

func watchRequest(req *skiffv1.WatchRequest) (command.WatchRequest, error) {
	if len(req.GetKey()) == 0 && !req.GetPrefix() {
		return command.WatchRequest{}, invalidArg("key must not be empty (set prefix to watch every key)")
	}
	r := command.WatchRequest{DB: int(req.GetDb()), Key: req.GetKey(), IsPrefix: req.GetPrefix(), FromToken: req.GetStartToken()}
	if d := req.GetProgressInterval(); d != nil {
		if err := d.CheckValid(); err != nil {
			return command.WatchRequest{}, invalidArg("progress_interval: " + err.Error())
		}
		switch v := d.AsDuration(); {
		case v < 0:
			r.ProgressInterval = -1
		case v == 0:
			// the API's default
		case v < minProgressInterval:
			return command.WatchRequest{}, invalidArg("progress_interval must be at least " + minProgressInterval.String() + " (or negative to disable progress notifications)")
		default:
			r.ProgressInterval = v
		}
	}
	return r, nil
}

// Translation: API -> protobuf.

func keyValue(kv command.KV) *skiffv1.KeyValue {
	out := &skiffv1.KeyValue{Key: kv.Key, Value: kv.Value, Revision: kv.Revision}
	if kv.ExpireAt > 0 {
		out.ExpireTime = timestamppb.New(time.UnixMilli(kv.ExpireAt))
	}
	return out
}

func rangeResponse(resp command.RangeResponse) *skiffv1.RangeResponse {
	out := &skiffv1.RangeResponse{Revision: resp.Revision, Kvs: make([]*skiffv1.KeyValue, len(resp.KVs))}
	for i, kv := range resp.KVs {
		out.Kvs[i] = keyValue(kv)
	}
	if resp.More && len(resp.KVs) > 0 {
		out.NextPageToken = encodePageToken(resp.KVs[len(resp.KVs)-1].Key)
	}
	return out
}

func eventType(t command.EventType) skiffv1.Event_Type {
	switch t {
	case command.EventPut:
		return skiffv1.Event_TYPE_PUT
	case command.EventDelete:
		return skiffv1.Event_TYPE_DELETE
	case command.EventExpire:
		return skiffv1.Event_TYPE_EXPIRE
	}
	return skiffv1.Event_TYPE_UNSPECIFIED
}

func watchResponse(ev command.WatchEvent) *skiffv1.WatchResponse {
	if ev.Type == command.EventProgress {
		return &skiffv1.WatchResponse{ProgressNotify: true, Token: ev.Token}
	}
	return &skiffv1.WatchResponse{
		Events: []*skiffv1.Event{{Type: eventType(ev.Type), Key: ev.Key, Value: ev.Value, Revision: ev.Revision, Token: ev.Token}},
		Token:  ev.Token,
	}
}
