package resp

import (
	"math"
	"strconv"
)

// appendDouble appends f formatted as Redis 7.2's d2string does (util.c):
//
//   - "nan", "inf", "-inf", and "0" / "-0" for zeros;
//   - integral values within ±2^62 as integers ("3", "1000000");
//   - anything else in the shortest form that round-trips, laid out like
//     fpconv_dtoa's emit_digits: plain digits for large integers with few
//     significant digits, a plain decimal when the exponent is small
//     ("0.1", "1234.5", "0.000001"), otherwise scientific notation with a
//     signed, unpadded exponent ("1e+21", "1.5e-7", "1e+300").
//
// Redis uses Grisu2, which in rare cases emits a longer (still round-trip)
// digit string than the shortest one that strconv finds.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	case f >= -(1<<62) && f <= 1<<62 && f == math.Trunc(f):
		return strconv.AppendInt(dst, int64(f), 10)
	}

	// Shortest digits and decimal exponent: "-d.ddde±XX".
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	var digs [24]byte
	nd := 0
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digs[nd] = e[i]
			nd++
		}
	}
	// value = d.ddd × 10^exp10; the exponent is "e+XX" or "e-XXX".
	exp10 := 0
	for _, c := range e[i+2:] {
		exp10 = exp10*10 + int(c-'0')
	}
	if e[i+1] == '-' {
		exp10 = -exp10
	}
	digits := digs[:nd]

	// fpconv's terms: value = digits × 10^k.
	k := exp10 - (nd - 1)
	absExp := exp10
	if absExp < 0 {
		absExp = -absExp
	}

	// Plain integer.
	if k >= 0 && absExp < nd+7 {
		dst = append(dst, digits...)
		for range k {
			dst = append(dst, '0')
		}
		return dst
	}
	// Decimal without exponent.
	if k < 0 && (k > -7 || absExp < 4) {
		offset := nd + k
		if offset <= 0 {
			dst = append(dst, '0', '.')
			for range -offset {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		dst = append(dst, digits[:offset]...)
		dst = append(dst, '.')
		return append(dst, digits[offset:]...)
	}
	// Scientific notation.
	dst = append(dst, digits[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if exp10 < 0 {
		dst = append(dst, '-')
	} else {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(absExp), 10)
}
