package command

import (
	"strings"
	"sync"
	"testing"
)

func TestParams_Normalize(t *testing.T) {
	p, err := newParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each value CONFIG SET accepts, and what CONFIG GET prints back (as
	// redis-server 7.2 does); want "" with an error means refused.
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"maxmemory", "100mb", "104857600", ""},
		{"maxmemory", "1k", "1000", ""},
		{"maxmemory", "1KB", "1024", ""},
		{"maxmemory", "2Gb", "2147483648", ""},
		{"maxmemory", "", "0", ""},
		{"maxmemory", "mb", "0", ""},
		{"maxmemory", "1 k", "", "argument must be a memory value"},
		{"maxmemory", "+1", "", "argument must be a memory value"},
		{"maxmemory", "18446744073709551615", "18446744073709551615", ""},
		{"proto-max-bulk-len", "10", "", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"proto-max-bulk-len", "2mb", "2097152", ""},
		{"maxmemory-clients", "10%", "10%", ""},
		{"maxmemory-clients", "200%", "", "percentage argument must be less or equal to 100"},
		{"maxmemory-clients", "x%", "", "argument must be a memory or percent value"},
		{"hz", "0", "1", ""},
		{"hz", "1000", "500", ""},
		{"hz", "-1", "", "argument must be between 0 and 2147483647 inclusive"},
		{"list-max-listpack-size", "-5", "-5", ""},
		{"slowlog-log-slower-than", "-1", "-1", ""},
		{"slowlog-log-slower-than", "-2", "", "argument must be between -1 and 9223372036854775807 inclusive"},
		{"tcp-keepalive", "+1", "", "argument couldn't be parsed into an integer"},
		{"active-expire-effort", "11", "", "argument must be between 1 and 10 inclusive"},
		{"activerehashing", "No", "no", ""},
		{"protected-mode", "1", "", "argument must be 'yes' or 'no'"},
		{"loglevel", "WARNING", "warning", ""},
		{"appendfsync", "sometimes", "", "argument(s) must be one of the following: always, everysec, no"},
		{"notify-keyspace-events", "KEA", "AKE", ""},
		{"notify-keyspace-events", "Ex", "xE", ""},
		{"notify-keyspace-events", "g$lshzxetd", "A", ""},
		{"notify-keyspace-events", "AKEmn", "AKEm", ""},
		{"notify-keyspace-events", "xxK", "xK", ""},
		{"notify-keyspace-events", "gn", "gn", ""},
		{"notify-keyspace-events", "Q", "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{"notify-keyspace-events", "", "", ""},
		{"save", "", "", ""},
		{"save", "900 1 300 10", "900 1 300 10", ""},
		{"save", "+300 010", "300 10", ""},
		{"save", "900  1", "", "Invalid save parameters"},
		{"save", "1 2 3", "", "Invalid save parameters"},
		{"save", "0 1", "", "Invalid save parameters"},
		{"save", "5 -1", "", "Invalid save parameters"},
		{"latency-tracking-info-percentiles", "50 99.999 100", "50 99.999 100", ""},
		{"latency-tracking-info-percentiles", "101", "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
		{"latency-tracking-info-percentiles", "abc", "", "Invalid latency-tracking-info-percentiles parameters"},
	} {
		err := p.Set([][2]string{{tc.name, tc.in}})
		if tc.err != "" {
			want := "ERR CONFIG SET failed (possibly related to argument '" + tc.name + "') - " + tc.err
			if err == nil || err.Error() != want {
				t.Errorf("%s %q: error %v, want %q", tc.name, tc.in, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tc.name, tc.in, err)
			continue
		}
		if got := p.Get(tc.name); got != tc.want {
			t.Errorf("%s %q: stored %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestParams_OutputBufferLimitMerges(t *testing.T) {
	p, err := newParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	const name = "client-output-buffer-limit"
	if got := p.Get(name); got != "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60" {
		t.Fatalf("default %q", got)
	}
	steps := []struct{ in, want, err string }{
		{"normal 1mb 2mb 3", "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60", ""},
		{"replica 1 2 3 PUBSUB 4 5 6", "normal 1048576 2097152 3 slave 1 2 3 pubsub 4 5 6", ""},
		{"foo 1 2 3", "", "Invalid client class specified in buffer limit configuration."},
		{"master 1 2 3", "", "Invalid client class specified in buffer limit configuration."},
		{"normal 1 2", "", "Wrong number of arguments in buffer limit configuration."},
		{"normal a 2 3", "", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
	}
	last := ""
	for _, st := range steps {
		err := p.Set([][2]string{{name, st.in}})
		if st.err != "" {
			if err == nil || !strings.HasSuffix(err.Error(), " - "+st.err) {
				t.Errorf("%q: error %v, want %q", st.in, err, st.err)
			}
			if got := p.Get(name); got != last {
				t.Errorf("%q: a refused value changed it to %q", st.in, got)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", st.in, err)
		}
		if last = p.Get(name); last != st.want {
			t.Errorf("%q: %q, want %q", st.in, last, st.want)
		}
	}
}

func TestParams_AliasesAndMatch(t *testing.T) {
	p, err := newParams(map[string]string{"HASH-MAX-ZIPLIST-ENTRIES": "7", "requirepass": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Get("hash-max-listpack-entries") != "7" || p.Get("hash-max-ziplist-entries") != "7" || p.Get("requirepass") != "pw" {
		t.Fatal("initial values not applied through the alias")
	}
	if !p.Known("SLAVE-READ-ONLY") || p.Known("nosuch") {
		t.Fatal("Known")
	}
	got := p.Match("hash-max-*")
	want := [][2]string{
		{"hash-max-listpack-entries", "7"}, {"hash-max-listpack-value", "64"},
		{"hash-max-ziplist-entries", "7"}, {"hash-max-ziplist-value", "64"},
	}
	if len(got) != len(want) {
		t.Fatalf("Match = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Match = %v, want %v", got, want)
		}
	}
	cg := p.ConfigGet([]string{"HZ", "hz", "h?", "nosuch", "databases"})
	if len(cg) != 2 || cg[0] != [2]string{"HZ", "10"} || cg[1] != [2]string{"databases", "16"} {
		t.Fatalf("ConfigGet = %v", cg)
	}
	for _, bad := range []map[string]string{{"nosuch": "1"}, {"hz": "x"}} {
		if _, err := newParams(bad); err == nil {
			t.Errorf("newParams(%v) accepted it", bad)
		}
	}
}

func TestParams_EveryDefaultIsValid(t *testing.T) {
	for _, spec := range paramSpecs() {
		got, err := spec.normalize(spec.def, spec.def)
		if err != nil || got != spec.def {
			t.Errorf("%s: default %q normalizes to %q, %v", spec.name, spec.def, got, err)
		}
	}
}

func TestParams_ConcurrentSetGet(t *testing.T) {
	p, err := newParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				v := "normal 1 2 3"
				if (i+j)%2 == 0 {
					v = "pubsub 4 5 6"
				}
				if err := p.Set([][2]string{{"client-output-buffer-limit", v}, {"hz", "20"}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				_ = p.ConfigGet([]string{"client-output-buffer-limit", "*max*"})
			}
		}()
	}
	wg.Wait()
	if got := p.Get("client-output-buffer-limit"); got != "normal 1 2 3 slave 268435456 67108864 60 pubsub 4 5 6" {
		t.Fatalf("after concurrent merges: %q", got)
	}
}
