package op

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEncodeDecode_RoundTrip(t *testing.T) {
	ops := []Op{
		{Code: Set, DB: 0, Time: 1700000000000, Args: [][]byte{[]byte("k"), []byte("v"), []byte("0"), []byte("0")}},
		{Code: Del, DB: 15, Time: 1, Args: [][]byte{[]byte("a"), {}, []byte("c\x00d")}},
		{Code: FlushAll, DB: 0, Time: -5},
	}
	for _, o := range ops {
		b := Encode(&o)
		got, rest, err := Decode(b)
		if err != nil {
			t.Fatalf("%v: decode: %v", o.Code, err)
		}
		if len(rest) != 0 {
			t.Fatalf("%v: %d bytes left over", o.Code, len(rest))
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip: got %+v, want %+v", got, o)
		}
	}
}

func TestDecode_Concatenated(t *testing.T) {
	a := Op{Code: IncrBy, Time: 2, Args: [][]byte{[]byte("k"), []byte("5")}}
	b := Op{Code: Persist, DB: 3, Time: 3, Args: [][]byte{[]byte("k")}}
	buf := AppendEncode(Encode(&a), &b)
	got1, rest, err := Decode(buf)
	if err != nil || got1.Code != IncrBy {
		t.Fatalf("first: %v %v", got1, err)
	}
	got2, rest, err := Decode(rest)
	if err != nil || got2.Code != Persist || got2.DB != 3 || len(rest) != 0 {
		t.Fatalf("second: %v %v rest=%d", got2, err, len(rest))
	}
}

func TestDecode_RejectsBadInput(t *testing.T) {
	good := Encode(&Op{Code: Set, Time: 9, Args: [][]byte{[]byte("key"), []byte("value")}})
	for i := 0; i < len(good); i++ {
		if _, _, err := Decode(good[:i]); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
	bad := append([]byte{}, good...)
	bad[0] = 99
	if _, _, err := Decode(bad); err == nil {
		t.Fatal("unknown version accepted")
	}
	bad = append([]byte{}, good...)
	bad[1] = 127
	if _, _, err := Decode(bad); err == nil {
		t.Fatal("unknown code accepted")
	}
	// A huge claimed argument count must not allocate before failing.
	huge := []byte{Version, byte(Del), 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if _, _, err := Decode(huge); err == nil {
		t.Fatal("huge arg count accepted")
	}
}

// TestGolden pins the encoding: a change to these bytes breaks every log
// written before it. Regenerate only for a new Version: go test ./internal/op -update
func TestGolden(t *testing.T) {
	o := Op{Code: Set, DB: 2, Time: 1764115200000, Args: [][]byte{[]byte("user:1"), []byte("ada"), Itoa(SetNX | SetGet), Itoa(1764115260000)}}
	got := Encode(&o)
	path := filepath.Join("testdata", "set_v1.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(&Op{Code: Set, Args: [][]byte{[]byte("k"), []byte("v"), []byte("0"), []byte("0")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, rest, err := Decode(b)
		if err != nil {
			return
		}
		if len(rest) > len(b) {
			t.Fatalf("rest longer than input")
		}
		// Whatever decodes must survive a round trip unchanged.
		o2, rest2, err := Decode(Encode(&o))
		if err != nil || len(rest2) != 0 || !reflect.DeepEqual(normalize(o), normalize(o2)) {
			t.Fatalf("round trip of %x: %+v -> %+v (%v)", b, o, o2, err)
		}
	})
}

func TestParseInt_LikeString2ll(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "-1": -1, "42": 42, "9223372036854775807": 9223372036854775807,
		"-9223372036854775808": -9223372036854775808,
	}
	for s, want := range good {
		if n, ok := ParseInt([]byte(s)); !ok || n != want {
			t.Errorf("ParseInt(%q) = %d %v, want %d", s, n, ok, want)
		}
	}
	for _, s := range []string{"", "-", "-0", "01", "+1", " 1", "1 ", "1a", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "1.0", "0x10", "123456789012345678901"} {
		if n, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) = %d, want rejection", s, n)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	f.Add([]byte("-123"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := ParseInt(b)
		if ok && string(Itoa(n)) != string(b) {
			t.Fatalf("ParseInt(%q) = %d, but canonical form is %q", b, n, Itoa(n))
		}
	})
}

// normalize makes nil and empty Args compare equal.
func normalize(o Op) Op {
	if len(o.Args) == 0 {
		o.Args = nil
	}
	return o
}
