package command

import (
	"errors"

	"github.com/skiffdb/skiff/internal/store"
)

// cmdLCS implements LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
// with Redis's dynamic-programming walk, so IDX ranges come out in the same
// order Redis gives them.
func cmdLCS(c *Ctx) {
	// Redis (lcsCommand) checks the keys' types before the options.
	st, now := c.Store(), c.Now()
	a, _, errA := st.Get(c.DB(), c.Args[1], now)
	b, _, errB := st.Get(c.DB(), c.Args[2], now)
	if errA != nil || errB != nil {
		if errors.Is(errA, store.ErrWrongType) || errors.Is(errB, store.ErrWrongType) {
			c.ErrorString("ERR The specified keys must contain string values")
			return
		}
		if errA == nil {
			errA = errB
		}
		c.Error(errA)
		return
	}
	var getLen, getIdx, withMatchLen bool
	var minMatch int64
	for i := 3; i < len(c.Args); i++ {
		switch {
		case c.ArgIs(i, "idx"):
			getIdx = true
		case c.ArgIs(i, "len"):
			getLen = true
		case c.ArgIs(i, "withmatchlen"):
			withMatchLen = true
		case c.ArgIs(i, "minmatchlen") && i+1 < len(c.Args):
			n, err := ParseInt(c.Args[i+1])
			if err != nil {
				c.Error(err)
				return
			}
			minMatch = max(n, 0)
			i++
		default:
			c.SyntaxError()
			return
		}
	}
	if getIdx && getLen {
		c.ErrorString("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > store.MaxStringLen {
		c.ErrorString("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	w := blen + 1
	dp := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				dp[i*w+j] = dp[(i-1)*w+j-1] + 1
			} else {
				dp[i*w+j] = max(dp[(i-1)*w+j], dp[i*w+j-1])
			}
		}
	}
	idx := int(dp[alen*w+blen])
	if getLen {
		c.W.WriteInt(int64(idx))
		return
	}
	result := make([]byte, idx)
	type match struct{ a0, a1, b0, b1 int }
	var matches []match
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if dp[(i-1)*w+j] > dp[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if n := aEnd - aStart + 1; minMatch == 0 || int64(n) >= minMatch {
				matches = append(matches, match{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	if !getIdx {
		c.W.WriteBulk(result)
		return
	}
	c.W.WriteMapLen(2)
	c.W.WriteBulkString("matches")
	c.W.WriteArrayLen(len(matches))
	for _, m := range matches {
		n := 2
		if withMatchLen {
			n = 3
		}
		c.W.WriteArrayLen(n)
		c.W.WriteArrayLen(2)
		c.W.WriteInt(int64(m.a0))
		c.W.WriteInt(int64(m.a1))
		c.W.WriteArrayLen(2)
		c.W.WriteInt(int64(m.b0))
		c.W.WriteInt(int64(m.b1))
		if withMatchLen {
			c.W.WriteInt(int64(m.a1 - m.a0 + 1))
		}
	}
	c.W.WriteBulkString("len")
	c.W.WriteInt(int64(len(result)))
}
