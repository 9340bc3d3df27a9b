package store

import "testing"

// ParseLongDouble reads infinities as strtold does: "inf" and "infinity" in
// any case, optionally signed; nothing longer or shorter.
func TestParseLongDoubleInfinity(t *testing.T) {
	for _, s := range []string{"inf", "INF", "+inf", "-Inf", "infinity", "Infinity", "-INFINITY", "+infinity"} {
		f, err := ParseLongDouble([]byte(s))
		if err != nil || !f.IsInf() || f.Signbit() != (s[0] == '-') {
			t.Errorf("ParseLongDouble(%q) = %v, %v; want a signed infinity", s, f, err)
		}
	}
	for _, s := range []string{"infinit", "infinityy", "in", "+-inf", " inf", "inf ", "nan", "-nan"} {
		if f, err := ParseLongDouble([]byte(s)); err == nil {
			t.Errorf("ParseLongDouble(%q) = %v, want an error", s, f)
		}
	}
}
