package testcluster_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// promScrape parses a member's GET /metrics.
func promScrape(httpAddr string) (map[string]*dto.MetricFamily, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET /metrics: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(res.Body)
}

// promGauge returns the value of name's sample with label = value (any
// sample when label is ""), and whether there is one.
func promGauge(fams map[string]*dto.MetricFamily, name, label, value string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if label == "" || lp.GetName() == label && lp.GetValue() == value {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
			}
		}
		if label == "" && len(m.GetLabel()) == 0 {
			return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// The leader reports each follower's replication lag; a partitioned
// follower's grows with the writes it misses and falls back to 0 when it is
// healed. Followers report no lag, and every node its own Raft state.
func TestMetrics_RaftFollowerLag(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	ctx, cancel := context.WithTimeout(context.Background(), testcluster.Timeout)
	defer cancel()
	cl := c.Client(leader.Index)
	if err := cl.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	followers := c.Followers()

	c.Eventually(func() error {
		fams, err := promScrape(leader.HTTPAddr)
		if err != nil {
			return err
		}
		for _, f := range followers {
			if lag, ok := promGauge(fams, "skiff_raft_follower_lag_entries", "follower", f.ID); !ok || lag != 0 {
				return fmt.Errorf("lag of %s = %v (present %v), want 0", f.ID, lag, ok)
			}
		}
		if v, _ := promGauge(fams, "skiff_raft_state", "state", "leader"); v != 1 {
			return fmt.Errorf("leader state %v", v)
		}
		return nil
	})
	for _, f := range followers {
		fams, err := promScrape(f.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		if fams["skiff_raft_follower_lag_entries"] != nil {
			t.Errorf("follower %s reports lag series", f.ID)
		}
		if v, _ := promGauge(fams, "skiff_raft_state", "state", "follower"); v != 1 {
			t.Errorf("follower %s: state follower = %v", f.ID, v)
		}
		if v, _ := promGauge(fams, "skiff_raft_leader_changes_total", "", ""); v < 1 {
			t.Errorf("follower %s: leader changes %v", f.ID, v)
		}
	}

	cut := followers[0]
	c.Partition(cut.Index)
	for i := 0; i < 20; i++ {
		if err := cl.Set(ctx, "k"+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Eventually(func() error {
		fams, err := promScrape(leader.HTTPAddr)
		if err != nil {
			return err
		}
		if lag, _ := promGauge(fams, "skiff_raft_follower_lag_entries", "follower", cut.ID); lag < 20 {
			return fmt.Errorf("partitioned %s: lag %v, want >= 20", cut.ID, lag)
		}
		if lag, _ := promGauge(fams, "skiff_raft_follower_lag_entries", "follower", followers[1].ID); lag != 0 {
			return fmt.Errorf("connected %s: lag %v, want 0", followers[1].ID, lag)
		}
		return nil
	})
	c.Heal(cut.Index)
	if c.WaitLeader() != leader {
		t.Skip("leadership moved during the partition")
	}
	c.Eventually(func() error {
		fams, err := promScrape(leader.HTTPAddr)
		if err != nil {
			return err
		}
		if lag, _ := promGauge(fams, "skiff_raft_follower_lag_entries", "follower", cut.ID); lag != 0 {
			return fmt.Errorf("healed %s: lag %v, want 0", cut.ID, lag)
		}
		return nil
	})
}
