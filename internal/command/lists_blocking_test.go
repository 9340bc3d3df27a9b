package command

import (
	"testing"
	"time"
)

// TestParseTimeout_Redis70 pins the timeouts Redis 7.0.15 answers without
// blocking on an element (replies checked against it by the differential
// test): a long double of seconds, ceil to milliseconds, LLONG_MIN past the
// long long range, and a deadline past the clock's range waiting forever.
// The ones that wait (0: forever) cannot be transcripts: Redis would block.
func TestParseTimeout_Redis70(t *testing.T) {
	const forever = time.Duration(0)
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "0", want: forever},
		{in: "-0", want: forever},
		{in: "-0.0001", want: forever},              // ceil(-0.1 ms) is 0
		{in: "-0.001", want: forever},               // -0.001L*1000 is just above -1: ceil gives 0
		{in: "9223372036854775", want: forever},     // now + ms overflows: Redis never times out
		{in: "9223360036854775", want: forever},     // far past any timer
		{in: "9223372036854775.807", want: forever}, // LLONG_MAX ms exactly in a long double
		{in: "0.0000001", want: time.Millisecond},
		{in: "1e-400", want: time.Millisecond}, // a long double, not 0
		{in: "0x10", want: 16 * time.Second},
		{in: "0x1p-7", want: 8 * time.Millisecond},
		{in: "+1.", want: time.Second},
		{in: ".5", want: 500 * time.Millisecond},
		{in: "-0.002", err: "ERR timeout is negative"},
		{in: "9223372036854775.808", err: "ERR timeout is negative"},
		{in: "1e400", err: "ERR timeout is negative"},
		{in: "inf", err: "ERR timeout is negative"},
		{in: "-Infinity", err: "ERR timeout is negative"},
		{in: "1e5000", err: "ERR timeout is not a float or out of range"},
		{in: "nan", err: "ERR timeout is not a float or out of range"},
		{in: "0x", err: "ERR timeout is not a float or out of range"},
		{in: "1 ", err: "ERR timeout is not a float or out of range"},
		{in: "", err: "ERR timeout is not a float or out of range"},
	} {
		got, err := parseTimeout([]byte(tc.in))
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("parseTimeout(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
