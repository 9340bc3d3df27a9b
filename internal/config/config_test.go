package config

import (
	"io"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParse_FlagsOverrideEnvOverrideDefaults(t *testing.T) {
	cfg, err := Parse([]string{"--redis-addr", "127.0.0.1:7000"},
		env(map[string]string{"SKIFF_REDIS_ADDR": "127.0.0.1:6000", "SKIFF_DATA_DIR": "/tmp/x", "SKIFF_DATABASES": "4", "SKIFF_BOOTSTRAP": "true"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RedisAddr != "127.0.0.1:7000" || cfg.DataDir != "/tmp/x" || cfg.Databases != 4 || !cfg.Bootstrap {
		t.Fatalf("cfg = %+v", cfg)
	}
	if cfg.RaftAddr != "127.0.0.1:16379" || cfg.Fsync != "always" || cfg.LogLevel != "info" {
		t.Fatalf("defaults lost: %+v", cfg)
	}
}

func TestParse_Errors(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--fsync", "never"}, nil, "--fsync"},
		{[]string{"--redis-addr", "nope"}, nil, "--redis-addr"},
		{nil, map[string]string{"SKIFF_DATABASES": "many"}, "SKIFF_DATABASES"},
		{[]string{"--join", "127.0.0.1:1", "--initial-cluster", "a=127.0.0.1:2"}, nil, "alternatives"},
		{[]string{"--join", "127.0.0.1:1", "--bootstrap"}, nil, "--bootstrap"},
		{[]string{"--initial-cluster", "a=127.0.0.1:2"}, nil, "needs --node-id"},
		{[]string{"--node-id", "b", "--initial-cluster", "a=127.0.0.1:2"}, nil, "not in --initial-cluster"},
		{[]string{"--node-id", "a", "--initial-cluster", "a=127.0.0.1:2,a=127.0.0.1:3"}, nil, "twice"},
		{[]string{"--node-id", "a", "--initial-cluster", "a127.0.0.1:2"}, nil, "want id=host:port"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := Parse(c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %v) = %v, want an error mentioning %q", c.args, c.env, err, c.want)
		}
	}
}

func TestPeers(t *testing.T) {
	cfg := Default()
	cfg.InitialCluster = "n1=127.0.0.1:16379, n2=127.0.0.1:16380"
	ps, err := cfg.Peers()
	if err != nil || len(ps) != 2 || ps[1] != (Peer{ID: "n2", RaftAddr: "127.0.0.1:16380"}) {
		t.Fatalf("Peers = %+v %v", ps, err)
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("snapshot-entries"); got != "SKIFF_SNAPSHOT_ENTRIES" {
		t.Fatal(got)
	}
}
