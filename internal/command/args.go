package command

import (
	"math"
	"strconv"

	"github.com/skiffdb/skiff/internal/store"
)

// ParseInt parses an integer argument as Redis's string2ll does (strict:
// no spaces, no '+', no leading zeros); the error is ErrNotInteger.
func ParseInt(b []byte) (int64, error) {
	n, err := store.ParseStrictInt(b)
	if err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

// ParseFloat parses a float argument as Redis's string2d does: no spaces,
// no NaN; "inf" and "-inf" accepted. The error is ErrNotFloat.
func ParseFloat(b []byte) (float64, error) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, ErrNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, ErrNotFloat
		}
	}
	if math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	return f, nil
}

// ParseTimeout parses a blocking timeout in seconds (fractional allowed).
func ParseTimeout(b []byte) (float64, error) {
	f, err := ParseFloat(b)
	if err != nil || math.IsInf(f, 0) {
		return 0, replyError("ERR timeout is not a float or out of range")
	}
	if f < 0 {
		return 0, replyError("ERR timeout is negative")
	}
	return f, nil
}
