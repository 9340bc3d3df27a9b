package grpcapi

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
)

// ReasonNotLeader is the google.rpc.ErrorInfo reason of a cluster change
// sent to a node that does not lead; its metadata carries "leader_id" and
// "leader_raft_address" when a leader is known.
const ReasonNotLeader = "NOT_LEADER"

// clusterService implements skiff.v1.Cluster over command.Server's
// ClusterInfo, AddMember, RemoveMember and TransferLeader.
type clusterService struct {
	skiffv1.UnimplementedClusterServer
	s *Server
}

func (c *clusterService) Status(context.Context, *skiffv1.StatusRequest) (*skiffv1.StatusResponse, error) {
	st, err := c.s.api.ClusterInfo()
	if err != nil {
		return nil, err
	}
	return &skiffv1.StatusResponse{
		NodeId: st.NodeID, RaftAddress: st.RaftAddr, State: raftState(st.State),
		LeaderId: st.LeaderID, LeaderRaftAddress: st.LeaderRaftAddr, Term: st.Term,
		CommitIndex: st.CommitIndex, AppliedIndex: st.Applied, LastLogIndex: st.LastIndex,
		LastSnapshotIndex: st.LastSnapshot, Members: members(st.Members),
	}, nil
}

func (c *clusterService) AddMember(_ context.Context, req *skiffv1.AddMemberRequest) (*skiffv1.AddMemberResponse, error) {
	if req.GetId() == "" || req.GetRaftAddress() == "" {
		return nil, invalidArg("id and raft_address must not be empty")
	}
	if err := c.s.api.AddMember(req.GetId(), req.GetRaftAddress()); err != nil {
		return nil, c.changeError(err)
	}
	return &skiffv1.AddMemberResponse{Members: c.members()}, nil
}

func (c *clusterService) RemoveMember(_ context.Context, req *skiffv1.RemoveMemberRequest) (*skiffv1.RemoveMemberResponse, error) {
	if req.GetId() == "" {
		return nil, invalidArg("id must not be empty")
	}
	if err := c.s.api.RemoveMember(req.GetId()); err != nil {
		return nil, c.changeError(err)
	}
	return &skiffv1.RemoveMemberResponse{Members: c.members()}, nil
}

func (c *clusterService) TransferLeader(_ context.Context, req *skiffv1.TransferLeaderRequest) (*skiffv1.TransferLeaderResponse, error) {
	if err := c.s.api.TransferLeader(req.GetId()); err != nil {
		return nil, c.changeError(err)
	}
	return &skiffv1.TransferLeaderResponse{}, nil
}

// members returns the configuration after a change, or none when it cannot
// be read (the change itself succeeded).
func (c *clusterService) members() []*skiffv1.Member {
	st, err := c.s.api.ClusterInfo()
	if err != nil {
		return nil
	}
	return members(st.Members)
}

// changeError maps a failed cluster change; on a node that does not lead,
// the status names the leader (message and ErrorInfo), since a change must
// be sent there.
func (c *clusterService) changeError(err error) error {
	if !errors.Is(err, engine.ErrNotLeader) {
		return err
	}
	st, ierr := c.s.api.ClusterInfo()
	if ierr != nil || st.LeaderID == "" {
		return err
	}
	s := status.New(codes.Unavailable, "this node is not the leader: send cluster changes to the leader "+st.LeaderID+" (raft address "+st.LeaderRaftAddr+")")
	if d, derr := s.WithDetails(&errdetails.ErrorInfo{
		Reason:   ReasonNotLeader,
		Domain:   errorDomain,
		Metadata: map[string]string{"leader_id": st.LeaderID, "leader_raft_address": st.LeaderRaftAddr},
	}); derr == nil {
		s = d
	}
	return s.Err()
}

func raftState(s string) skiffv1.RaftState {
	switch strings.ToLower(s) {
	case "follower":
		return skiffv1.RaftState_RAFT_STATE_FOLLOWER
	case "candidate":
		return skiffv1.RaftState_RAFT_STATE_CANDIDATE
	case "leader":
		return skiffv1.RaftState_RAFT_STATE_LEADER
	case "shutdown":
		return skiffv1.RaftState_RAFT_STATE_SHUTDOWN
	}
	return skiffv1.RaftState_RAFT_STATE_UNSPECIFIED
}

func members(ms []command.ClusterMember) []*skiffv1.Member {
	out := make([]*skiffv1.Member, len(ms))
	for i, m := range ms {
		out[i] = &skiffv1.Member{Id: m.ID, RaftAddress: m.RaftAddr, Voter: m.Voter, Leader: m.Leader, Self: m.Self}
	}
	return out
}
