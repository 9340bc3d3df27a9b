package grpcapi

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
)

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("%s: err = %v, want INVALID_ARGUMENT", what, err)
	}
}

func TestTranslate_Get(t *testing.T) {
	_, err := getRequest(&skiffv1.GetRequest{})
	wantInvalid(t, "empty key", err)
	_, err = getRequest(&skiffv1.GetRequest{Key: []byte("k"), Consistency: 99})
	wantInvalid(t, "unknown consistency", err)

	cases := []struct {
		in   skiffv1.Consistency
		want command.Consistency
	}{
		{skiffv1.Consistency_CONSISTENCY_UNSPECIFIED, command.Linearizable},
		{skiffv1.Consistency_CONSISTENCY_LINEARIZABLE, command.Linearizable},
		{skiffv1.Consistency_CONSISTENCY_SERIALIZABLE, command.Serializable},
	}
	for _, c := range cases {
		r, err := getRequest(&skiffv1.GetRequest{Key: []byte("k"), Consistency: c.in, Db: 3})
		if err != nil {
			t.Fatal(err)
		}
		if want := (command.GetRequest{DB: 3, Key: []byte("k"), Consistency: c.want}); !reflect.DeepEqual(r, want) {
			t.Errorf("%v: got %+v, want %+v", c.in, r, want)
		}
	}
}

func TestTranslate_Put(t *testing.T) {
	_, err := putRequest(&skiffv1.PutRequest{Value: []byte("v")})
	wantInvalid(t, "empty key", err)
	_, err = putRequest(&skiffv1.PutRequest{Key: []byte("k"), Ttl: durationpb.New(-time.Second)})
	wantInvalid(t, "negative ttl", err)
	_, err = putRequest(&skiffv1.PutRequest{Key: []byte("k"), Ttl: &durationpb.Duration{Seconds: 1, Nanos: -1}})
	wantInvalid(t, "invalid duration", err)

	r, err := putRequest(&skiffv1.PutRequest{Key: []byte("k"), Ttl: durationpb.New(1500 * time.Microsecond), IfAbsent: true, IfRevision: 9, Db: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := command.PutRequest{DB: 1, Key: []byte("k"), Value: []byte{}, TTL: 2 * time.Millisecond, IfAbsent: true, IfRevision: 9}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v, want %+v", r, want)
	}
	if r.Value == nil {
		t.Error("an empty value must reach the API as empty, not nil")
	}
	r, _ = putRequest(&skiffv1.PutRequest{Key: []byte("k"), Ttl: durationpb.New(0)})
	if r.TTL != 0 {
		t.Errorf("zero ttl = %v", r.TTL)
	}
}

func TestTranslate_Range(t *testing.T) {
	r, err := rangeRequest(&skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Prefix{Prefix: []byte("p/")}, Limit: 10, KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Prefix, []byte("p/")) || r.Start != nil || r.Limit != 10 || !r.KeysOnly {
		t.Errorf("prefix: %+v", r)
	}
	r, err = rangeRequest(&skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Range{Range: &skiffv1.KeyRange{Start: []byte("a"), End: []byte("m")}},
		Consistency: skiffv1.Consistency_CONSISTENCY_SERIALIZABLE})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Start) != "a" || string(r.End) != "m" || r.Prefix != nil || r.Consistency != command.Serializable {
		t.Errorf("range: %+v", r)
	}

	// A page ends with More: its next token resumes after its last key.
	resp := rangeResponse(command.RangeResponse{KVs: []command.KV{{Key: []byte("a")}, {Key: []byte("b\x00\xff")}}, More: true, Revision: 5})
	if resp.NextPageToken == "" || resp.Revision != 5 || len(resp.Kvs) != 2 {
		t.Fatalf("response: %v", resp)
	}
	r, err = rangeRequest(&skiffv1.RangeRequest{PageToken: resp.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.After, []byte("b\x00\xff")) {
		t.Errorf("After = %q", r.After)
	}
	if last := rangeResponse(command.RangeResponse{KVs: []command.KV{{Key: []byte("z")}}}); last.NextPageToken != "" {
		t.Errorf("last page has a next token %q", last.NextPageToken)
	}

	r, err = rangeRequest(&skiffv1.RangeRequest{PageToken: encodePageToken(nil)})
	if err != nil || r.After == nil || len(r.After) != 0 {
		t.Errorf("a page ending with the empty key: After = %q, %v", r.After, err)
	}
	for _, bad := range []string{"!!", "AmFiYw", "AQ=="} { // not base64; version 2; padded
		_, err = rangeRequest(&skiffv1.RangeRequest{PageToken: bad})
		wantInvalid(t, "page token "+bad, err)
	}
}

func TestTranslate_Txn(t *testing.T) {
	req := &skiffv1.TxnRequest{
		Db: 2,
		Compares: []*skiffv1.Compare{
			{Key: []byte("a"), Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Value{Value: []byte("x")}},
			{Key: []byte("b"), Result: skiffv1.Compare_RESULT_LESS, Target: &skiffv1.Compare_Revision{Revision: 4}},
			{Key: []byte("c"), Result: skiffv1.Compare_RESULT_NOT_EQUAL, Target: &skiffv1.Compare_Exists{Exists: true}},
			{Key: []byte("d"), Result: skiffv1.Compare_RESULT_GREATER, Target: &skiffv1.Compare_Revision{Revision: 0}},
		},
		ThenOps: []*skiffv1.TxnOp{
			{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte("a"), Value: []byte("y"), Ttl: durationpb.New(time.Second)}}},
			{Op: &skiffv1.TxnOp_Delete{Delete: &skiffv1.DeleteOp{Key: []byte("b")}}},
		},
		ElseOps: []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte("e")}}}},
	}
	r, err := txnRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	want := command.TxnRequest{
		DB: 2,
		Compares: []command.Compare{
			{Key: []byte("a"), Target: command.CompareValue, Op: command.OpEqual, Value: []byte("x")},
			{Key: []byte("b"), Target: command.CompareRevision, Op: command.OpLess, Revision: 4},
			{Key: []byte("c"), Target: command.CompareExists, Op: command.OpNotEqual, Exists: true},
			{Key: []byte("d"), Target: command.CompareRevision, Op: command.OpGreater},
		},
		Then: []command.TxnOp{{Key: []byte("a"), Value: []byte("y"), TTL: time.Second}, {Delete: true, Key: []byte("b")}},
		Else: []command.TxnOp{{Key: []byte("e"), Value: []byte{}}},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got\n %+v\nwant\n %+v", r, want)
	}

	bad := map[string]*skiffv1.TxnRequest{
		"compare without target": {Compares: []*skiffv1.Compare{{Key: []byte("a"), Result: skiffv1.Compare_RESULT_EQUAL}}},
		"compare without result": {Compares: []*skiffv1.Compare{{Key: []byte("a"), Target: &skiffv1.Compare_Exists{Exists: true}}}},
		"compare without key":    {Compares: []*skiffv1.Compare{{Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Exists{Exists: true}}}},
		"op without put/delete":  {ThenOps: []*skiffv1.TxnOp{{}}},
		"put without key":        {ThenOps: []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{}}}}},
		"delete without key":     {ElseOps: []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Delete{Delete: &skiffv1.DeleteOp{}}}}},
		"negative ttl":           {ThenOps: []*skiffv1.TxnOp{{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte("a"), Ttl: durationpb.New(-1)}}}}},
	}
	for name, req := range bad {
		_, err := txnRequest(req)
		wantInvalid(t, name, err)
	}
}

func TestTranslate_Watch(t *testing.T) {
	_, err := watchRequest(&skiffv1.WatchRequest{})
	wantInvalid(t, "empty key without prefix", err)
	_, err = watchRequest(&skiffv1.WatchRequest{Key: []byte("k"), ProgressInterval: durationpb.New(time.Millisecond)})
	wantInvalid(t, "progress interval below the floor", err)

	cases := []struct {
		in   *durationpb.Duration
		want time.Duration
	}{
		{nil, 0},
		{durationpb.New(0), 0},
		{durationpb.New(-time.Second), -1},
		{durationpb.New(2 * time.Second), 2 * time.Second},
	}
	for _, c := range cases {
		r, err := watchRequest(&skiffv1.WatchRequest{Prefix: true, StartToken: "tok", ProgressInterval: c.in, Db: 4})
		if err != nil {
			t.Fatal(err)
		}
		want := command.WatchRequest{DB: 4, IsPrefix: true, FromToken: "tok", ProgressInterval: c.want}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("%v: got %+v, want %+v", c.in, r, want)
		}
	}

	events := []struct {
		in   command.WatchEvent
		want *skiffv1.WatchResponse
	}{
		{command.WatchEvent{Type: command.EventPut, Key: []byte("k"), Value: []byte("v"), Revision: 3, Token: "t3"},
			&skiffv1.WatchResponse{Token: "t3", Events: []*skiffv1.Event{{Type: skiffv1.Event_TYPE_PUT, Key: []byte("k"), Value: []byte("v"), Revision: 3, Token: "t3"}}}},
		{command.WatchEvent{Type: command.EventDelete, Key: []byte("k"), Revision: 4, Token: "t4"},
			&skiffv1.WatchResponse{Token: "t4", Events: []*skiffv1.Event{{Type: skiffv1.Event_TYPE_DELETE, Key: []byte("k"), Revision: 4, Token: "t4"}}}},
		{command.WatchEvent{Type: command.EventExpire, Key: []byte("k"), Revision: 5, Token: "t5"},
			&skiffv1.WatchResponse{Token: "t5", Events: []*skiffv1.Event{{Type: skiffv1.Event_TYPE_EXPIRE, Key: []byte("k"), Revision: 5, Token: "t5"}}}},
		{command.WatchEvent{Type: command.EventProgress, Token: "t6"},
			&skiffv1.WatchResponse{ProgressNotify: true, Token: "t6"}},
	}
	for _, e := range events {
		if got := watchResponse(e.in); got.String() != e.want.String() {
			t.Errorf("%+v:\n got %v\nwant %v", e.in, got, e.want)
		}
	}
}

func TestTranslate_KeyValue(t *testing.T) {
	kv := keyValue(command.KV{Key: []byte("k"), Value: []byte("v"), Revision: 7, ExpireAt: 1700000000123})
	if kv.GetExpireTime().AsTime().UnixMilli() != 1700000000123 || kv.GetRevision() != 7 {
		t.Errorf("got %v", kv)
	}
	if keyValue(command.KV{Key: []byte("k")}).ExpireTime != nil {
		t.Error("a key without a deadline has an expire_time")
	}
}

func TestTranslate_RaftState(t *testing.T) {
	for in, want := range map[string]skiffv1.RaftState{
		"Leader": skiffv1.RaftState_RAFT_STATE_LEADER, "Follower": skiffv1.RaftState_RAFT_STATE_FOLLOWER,
		"Candidate": skiffv1.RaftState_RAFT_STATE_CANDIDATE, "Shutdown": skiffv1.RaftState_RAFT_STATE_SHUTDOWN,
		"": skiffv1.RaftState_RAFT_STATE_UNSPECIFIED,
	} {
		if got := raftState(in); got != want {
			t.Errorf("raftState(%q) = %v, want %v", in, got, want)
		}
	}
}
