package httpapi

import (
	"io"
	"net"
	"net/http"
)

// hello: GET /hello/{name}, a liveness greeting in plain text.
func (h *Handler) hello(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, "Hello, "+r.PathValue("name")+" 👋")
}

// healthz: GET /healthz, 200 "ok" while the process serves HTTP at all.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// readyz: GET /readyz, 200 "ok" when a leader is known and this node has
// applied the log up to the commit index it knows; otherwise 503 with the
// reason as a JSON error.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if ok, reason := h.api.Ready(); !ok {
		writeError(w, &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "not ready: " + reason})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// openAPI: GET /v1/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(h.openapi)
}

// clusterJSON is GET /v1/cluster: this node's view of the cluster, with the
// field names of SKIFF.CLUSTER STATUS and MEMBERS.
type clusterJSON struct {
	NodeID            string       `json:"node_id"`
	RaftAddr          string       `json:"raft_addr"`
	State             string       `json:"state"`
	LeaderID          string       `json:"leader_id"`
	LeaderRaftAddr    string       `json:"leader_raft_addr"`
	Term              uint64       `json:"term"`
	CommitIndex       uint64       `json:"commit_index"`
	AppliedIndex      uint64       `json:"applied_index"`
	LastLogIndex      uint64       `json:"last_log_index"`
	LastSnapshotIndex uint64       `json:"last_snapshot_index"`
	Members           []memberJSON `json:"members"`
}

type memberJSON struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
	Self     bool   `json:"self"`
}

func (h *Handler) clusterGet(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		h.fail(w, r, err)
		return
	}
	st, err := h.api.ClusterInfo()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := clusterJSON{
		NodeID: st.NodeID, RaftAddr: st.RaftAddr, State: st.State,
		LeaderID: st.LeaderID, LeaderRaftAddr: st.LeaderRaftAddr,
		Term: st.Term, CommitIndex: st.CommitIndex, AppliedIndex: st.Applied,
		LastLogIndex: st.LastIndex, LastSnapshotIndex: st.LastSnapshot,
		Members: make([]memberJSON, 0, len(st.Members)),
	}
	for _, m := range st.Members {
		out.Members = append(out.Members, memberJSON{ID: m.ID, RaftAddr: m.RaftAddr, Voter: m.Voter, Leader: m.Leader, Self: m.Self})
	}
	writeJSON(w, http.StatusOK, out)
}

// addMemberJSON is the body of POST /v1/cluster/members.
type addMemberJSON struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
}

// clusterAddMember: POST /v1/cluster/members {"id", "raft_addr"} adds a
// voter (on the leader; elsewhere 503 unavailable). 204 when done.
func (h *Handler) clusterAddMember(w http.ResponseWriter, r *http.Request) {
	var req addMemberJSON
	if err := h.jsonRequest(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.ID == "" {
		h.fail(w, r, invalidf("id is required"))
		return
	}
	if _, _, err := net.SplitHostPort(req.RaftAddr); err != nil || req.RaftAddr == "" {
		h.fail(w, r, invalidf("raft_addr must be host:port, not %q", req.RaftAddr))
		return
	}
	if err := h.api.AddMember(req.ID, req.RaftAddr); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// clusterRemoveMember: DELETE /v1/cluster/members/{id}. 204 when done.
func (h *Handler) clusterRemoveMember(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.api.RemoveMember(r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// transferJSON is the body of POST /v1/cluster/leader.
type transferJSON struct {
	ID string `json:"id"`
}

// clusterTransferLeader: POST /v1/cluster/leader {"id"} hands leadership to
// that member, or with an empty body or id to any up-to-date voter. 204.
func (h *Handler) clusterTransferLeader(w http.ResponseWriter, r *http.Request) {
	var req transferJSON
	if err := h.jsonRequest(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.api.TransferLeader(req.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// jsonRequest reads a JSON request body into v (no query parameters
// accepted).
func (h *Handler) jsonRequest(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v, emptyOK)
}
