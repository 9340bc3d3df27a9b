package op

import "fmt"

// Txn is a MULTI/EXEC transaction: one log entry that every replica applies
// atomically (nothing else is applied between its steps).
//
// Args:
//
//	Args[0]         id: opaque bytes naming the transaction on the node that
//	                proposed it (its read hooks, see store.RegisterTxnHook);
//	                empty when it has none. Other nodes ignore it.
//	Args[1]         n, the number of WATCH conditions (decimal)
//	Args[2:2+3n]    the conditions: db (decimal), key, revision (decimal; 0
//	                for a key that was absent or expired)
//	Args[2+3n:]     the steps, in order: an encoded operation (AppendEncode,
//	                any code but Txn), or an empty argument for a read step
//
// Apply first compares every condition's revision with the key's current
// one at Op.Time; if any differs, nothing is applied. Otherwise the steps are
// applied in order: operations as themselves, read steps by calling the
// proposing node's hook (if it is registered there) with a view of the state
// at that point. Reply: store.TxnResult.
const Txn Code = 193

var txnNames = map[Code]string{Txn: "txn"}

// TxnCond is one WATCH condition: the key's revision when it was watched.
type TxnCond struct {
	DB  int
	Key []byte
	Rev uint64
}

// TxnBuilder builds a Txn operation. The zero value is ready to use; add the
// conditions before the first step.
type TxnBuilder struct {
	o     Op
	nCond int
	steps int
}

// Cond adds a WATCH condition. It panics after a step was added.
func (b *TxnBuilder) Cond(db int, key []byte, rev uint64) {
	if b.steps > 0 {
		panic("op: Txn condition after a step")
	}
	b.init()
	b.o.Args = append(b.o.Args, Itoa(int64(db)), key, AppendUint(nil, rev))
	b.nCond++
}

// Step adds an operation, encoded now (o may be reused afterwards), and
// returns its step index.
func (b *TxnBuilder) Step(o *Op) int {
	b.init()
	b.o.Args = append(b.o.Args, Encode(o))
	b.steps++
	return b.steps - 1
}

// Read adds a read step and returns its step index.
func (b *TxnBuilder) Read() int {
	b.init()
	b.o.Args = append(b.o.Args, []byte{})
	b.steps++
	return b.steps - 1
}

// Encoded returns step i's encoded operation (aliasing the builder's
// argument), or nil for a read step.
func (b *TxnBuilder) Encoded(i int) []byte {
	a := b.o.Args[2+3*b.nCond+i]
	if len(a) == 0 {
		return nil
	}
	return a
}

// Steps returns the number of steps added.
func (b *TxnBuilder) Steps() int { return b.steps }

// Conds returns the number of conditions added.
func (b *TxnBuilder) Conds() int { return b.nCond }

// Op returns the operation, stamped with time (unix ms): the time at which
// the conditions are checked.
func (b *TxnBuilder) Op(time int64) *Op {
	b.init()
	b.o.Args[1] = Itoa(int64(b.nCond))
	b.o.Code, b.o.Time = Txn, time
	return &b.o
}

func (b *TxnBuilder) init() {
	if b.o.Args == nil {
		b.o.Args = make([][]byte, 2, 8)
		b.o.Args[0] = []byte{}
	}
}

// SetTxnID sets the id of a Txn operation (Args[0]).
func SetTxnID(o *Op, id []byte) { o.Args[0] = id }

// ParsedTxn is a decoded Txn operation's arguments (aliasing the Op's).
type ParsedTxn struct {
	ID    []byte
	Conds []TxnCond
	Steps [][]byte // encoded operations; empty for a read step
}

// ParseTxn checks a Txn operation's layout and returns its parts. The
// steps are not decoded.
func ParseTxn(o *Op) (ParsedTxn, error) {
	var t ParsedTxn
	if o.Code != Txn || len(o.Args) < 2 {
		return t, fmt.Errorf("%w: txn layout", ErrTruncated)
	}
	n, ok := ParseInt(o.Args[1])
	if !ok || n < 0 || n > int64(len(o.Args)-2)/3 {
		return t, fmt.Errorf("%w: txn condition count", ErrTruncated)
	}
	t.ID = o.Args[0]
	t.Conds = make([]TxnCond, n)
	for i := range t.Conds {
		a := o.Args[2+3*i:]
		db, ok1 := ParseInt(a[0])
		rev, ok2 := ParseUint(a[2])
		if !ok1 || !ok2 || db < 0 || db > maxDB {
			return t, fmt.Errorf("%w: txn condition", ErrTruncated)
		}
		t.Conds[i] = TxnCond{DB: int(db), Key: a[1], Rev: rev}
	}
	t.Steps = o.Args[2+3*n:]
	return t, nil
}

// AppendUint appends the decimal form of n.
func AppendUint(dst []byte, n uint64) []byte {
	if n < uint64(len(smallInts)) {
		return append(dst, smallInts[n]...)
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, buf[i:]...)
}

// ParseUint parses a canonical decimal uint64 (no sign, no leading zeros).
func ParseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (^uint64(0)-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}
