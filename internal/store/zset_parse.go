package store

import (
	"math"
	"strconv"
	"strings"
)

// Parsing of sorted-set scores and ranges exactly as Redis does it: Redis
// parses with C's strtod, which accepts more than strconv (leading blanks,
// hexadecimal mantissas without an exponent, "infinity", a prefix followed
// by a NUL byte), and each caller checks its result its own way. The
// command layer validates with these functions and apply parses the same
// bytes again, so both always agree.

// ParseScore parses a score, an increment or a weight as Redis's
// getDoubleFromObject does: the whole argument must be a number; no leading
// blank; overflow to infinity and underflow to zero are errors (the words
// "inf" and "infinity" are fine); NaN is an error.
func ParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, n, erange := strtod(b)
	if n != len(b) || math.IsNaN(f) || (erange && (math.IsInf(f, 0) || f == 0)) {
		return 0, false
	}
	return f, true
}

// ZScoreRange is a ZRANGEBYSCORE-style interval.
type ZScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool // exclusive bounds ("(1.5")
}

// ParseScoreRange parses min and max as Redis's zslParseRange does: an
// optional '(' for an exclusive bound, then a number that strtod reads up to
// the end of the argument or a NUL byte (so "" and "(" are 0 and "1e999"
// is inf); NaN is an error.
func ParseScoreRange(min, max []byte) (ZScoreRange, bool) {
	var r ZScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = parseScoreBound(min)
	r.Max, r.MaxEx, ok2 = parseScoreBound(max)
	return r, ok1 && ok2
}

func parseScoreBound(b []byte) (f float64, ex bool, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		b, ex = b[1:], true
	}
	f, n, _ := strtod(b)
	if (n < len(b) && b[n] != 0) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

func (r *ZScoreRange) gteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

func (r *ZScoreRange) lteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// ZLexBound is one end of a ZRANGEBYLEX interval.
type ZLexBound struct {
	Value string
	Ex    bool // "(" or an infinite bound
	Inf   int8 // -1 for "-", +1 for "+", 0 for a string bound
}

// ZLexRange is a ZRANGEBYLEX-style interval.
type ZLexRange struct{ Min, Max ZLexBound }

// ParseLexRange parses min and max as Redis's zslParseLexRange does: "-",
// "+", or a string after '(' (exclusive) or '[' (inclusive).
func ParseLexRange(min, max []byte) (ZLexRange, bool) {
	var r ZLexRange
	var ok1, ok2 bool
	r.Min, ok1 = parseLexBound(min)
	r.Max, ok2 = parseLexBound(max)
	return r, ok1 && ok2
}

func parseLexBound(b []byte) (ZLexBound, bool) {
	if len(b) == 0 {
		return ZLexBound{}, false
	}
	// Redis looks at the C string: "+" followed by a NUL byte is "+".
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return ZLexBound{}, false
		}
		inf := int8(1)
		if b[0] == '-' {
			inf = -1
		}
		return ZLexBound{Ex: true, Inf: inf}, true
	case '(':
		return ZLexBound{Value: string(b[1:]), Ex: true}, true
	case '[':
		return ZLexBound{Value: string(b[1:])}, true
	}
	return ZLexBound{}, false
}

// lexCmp compares member m with bound b (Redis's sdscmplex).
func lexCmp(m string, b *ZLexBound) int {
	switch b.Inf {
	case -1:
		return 1
	case 1:
		return -1
	}
	return strings.Compare(m, b.Value)
}

func (r *ZLexRange) gteMin(m string) bool {
	if r.Min.Ex {
		return lexCmp(m, &r.Min) > 0
	}
	return lexCmp(m, &r.Min) >= 0
}

func (r *ZLexRange) lteMax(m string) bool {
	if r.Max.Ex {
		return lexCmp(m, &r.Max) < 0
	}
	return lexCmp(m, &r.Max) <= 0
}

// empty reports a range that can hold nothing (min above max, or equal
// with an exclusive end), as zslIsInLexRange tests it first.
func (r *ZLexRange) empty() bool {
	var c int
	a, b := &r.Min, &r.Max
	switch {
	case a.Inf != 0 && a.Inf == b.Inf:
		c = 0
	case a.Inf == -1 || b.Inf == 1:
		c = -1
	case a.Inf == 1 || b.Inf == -1:
		c = 1
	default:
		c = strings.Compare(a.Value, b.Value)
	}
	return c > 0 || (c == 0 && (a.Ex || b.Ex))
}

func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// strtod parses the longest prefix of b that glibc's strtod reads in the C
// locale and returns its value, the number of bytes read (0 when nothing
// was converted) and whether the result overflowed or underflowed (strtod's
// ERANGE).
func strtod(b []byte) (f float64, n int, erange bool) {
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	sign := func(v float64) float64 {
		if neg {
			return -v
		}
		return v
	}
	hasPrefixFold := func(p string) bool {
		return len(b)-i >= len(p) && strings.EqualFold(string(b[i:i+len(p)]), p)
	}
	switch {
	case hasPrefixFold("infinity"):
		return sign(math.Inf(1)), i + 8, false
	case hasPrefixFold("inf"):
		return sign(math.Inf(1)), i + 3, false
	case hasPrefixFold("nan"):
		i += 3
		if i < len(b) && b[i] == '(' {
			j := i + 1
			for j < len(b) && (isAlnum(b[j]) || b[j] == '_') {
				j++
			}
			if j < len(b) && b[j] == ')' {
				i = j + 1
			}
		}
		return math.NaN(), i, false
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isHex := func(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
	mant := i
	hex := false
	if i+1 < len(b) && b[i] == '0' && b[i+1]|0x20 == 'x' &&
		((i+2 < len(b) && isHex(b[i+2])) || (i+3 < len(b) && b[i+2] == '.' && isHex(b[i+3]))) {
		hex = true
		i += 2
	}
	digit := isDigit
	if hex {
		digit = isHex
	}
	nonzero, digits := false, 0
	for i < len(b) && digit(b[i]) {
		nonzero = nonzero || b[i] != '0'
		digits++
		i++
	}
	if i < len(b) && b[i] == '.' {
		j := i + 1
		for j < len(b) && digit(b[j]) {
			nonzero = nonzero || b[j] != '0'
			digits++
			j++
		}
		if digits > 0 {
			i = j
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	// An exponent is read only when digits follow it.
	expCh := byte('e')
	if hex {
		expCh = 'p'
	}
	hasExp := false
	if i < len(b) && b[i]|0x20 == expCh {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && isDigit(b[j]) {
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			i, hasExp = j, true
		}
	}
	text := string(b[mant:i])
	if hex && !hasExp {
		text += "p0"
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0, false // not reached: the text was checked above
		}
		erange = true
	}
	if v == 0 && nonzero {
		erange = true // underflow to zero
	}
	return sign(v), i, erange
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
