package btfsize

import (
	"cmp"

	"github.com/cilium/ebpf/btf"
	"math"
	"math/bits"
	"slices"

	"github.com/cilium/ebpf/asm"
)

// The size dataflow is an abstract interpretation of one function over its
// control-flow graph: registers and 8-byte stack slots hold intervals of
// unsigned values or the pointers that matter to a send (a map, the stack, a
// map value, an argument, a reserved record). Values meet at joins, loops are
// widened, and a size is a constant only when every path agrees.

type vkind uint8

const (
	vUnknown  vkind = iota // any value
	vScalar                // an unsigned value in [lo, hi]
	vStack                 // r10 + off
	vMap                   // a map pointer
	vMapValue              // a pointer into a map value + off
	vArg                   // argument n of the function + off
	vReserved              // a record reserved by the call at raw index n, + off
	vStackAny              // somewhere in the stack frame, offset not known
	vRodata                // a pointer into read-only data (.rodata) + off
)

// value is an abstract register or stack slot.
type value struct {
	kind   vkind
	lo, hi uint64 // bounds of a scalar
	off    int64  // offset of a pointer
	m      *mapDef
	n      int
	// core is the CO-RE relocation a scalar came from: the loader may
	// rewrite it, so the value is this build's, not the kernel's.
	core *btf.CORERelocation
	// global is the const volatile global a scalar was read from: user
	// space may set it before load, so only its default is known.
	global *globalRef
}

// globalRef is a read of a global in .rodata: its name, section and default.
type globalRef struct {
	name, section string
	def           uint64
}

var unknown = value{}

func scalar(lo, hi uint64) value { return value{kind: vScalar, lo: lo, hi: hi} }
func constant(c uint64) value    { return scalar(c, c) }

// bounds returns the interval of a scalar, the full range for anything else.
func (v value) bounds() (lo, hi uint64) {
	if v.kind == vScalar {
		return v.lo, v.hi
	}
	return 0, math.MaxUint64
}

func (v value) isConst() bool { return v.kind == vScalar && v.lo == v.hi }

func (v value) isPointer() bool { return v.kind >= vStack }

// join is the least upper bound of a and b.
func join(a, b value) value {
	switch {
	case a == b:
		return a
	case a.kind == vScalar && b.kind == vScalar:
		j := scalar(min(a.lo, b.lo), max(a.hi, b.hi))
		j.core = cmp.Or(a.core, b.core)
		return j
	}
	return unknown
}

// widen is join that gives up on intervals that keep changing, so loops end.
func widen(old, new value) value {
	j := join(old, new)
	if j != old && j.kind == vScalar {
		return unknown
	}
	return j
}

// state is the abstract machine before one instruction.
type state struct {
	regs  [asm.R10 + 1]value
	stack []slot // sorted by offset
	// escaped is set once a stack address is stored to memory: from then on
	// any call or store through an unknown pointer may write any slot.
	escaped bool
}

// slot is a spilled 8-byte value at r10+off. A state holds few of them, so a
// sorted slice clones faster than a map.
type slot struct {
	off int64
	v   value
}

// get returns the slot at off.
func (s *state) get(off int64) (value, bool) {
	i, ok := slices.BinarySearchFunc(s.stack, off, func(sl slot, off int64) int { return cmp.Compare(sl.off, off) })
	if !ok {
		return value{}, false
	}
	return s.stack[i].v, true
}

// set stores v at off.
func (s *state) set(off int64, v value) {
	i, ok := slices.BinarySearchFunc(s.stack, off, func(sl slot, off int64) int { return cmp.Compare(sl.off, off) })
	if ok {
		s.stack[i].v = v
		return
	}
	s.stack = slices.Insert(s.stack, i, slot{off, v})
}

// forget drops the slots that overlap [lo, hi).
func (s *state) forget(lo, hi int64) {
	s.stack = slices.DeleteFunc(s.stack, func(sl slot) bool { return sl.off < hi && lo < sl.off+8 })
}

func (s *state) clone() *state {
	return &state{regs: s.regs, stack: slices.Clone(s.stack), escaped: s.escaped}
}

// merge joins o into s and reports whether s changed.
func (s *state) merge(o *state, w bool) bool {
	f := join
	if w {
		f = widen
	}
	changed := false
	if o.escaped && !s.escaped {
		s.escaped, changed = true, true
	}
	for i := range s.regs {
		if n := f(s.regs[i], o.regs[i]); n != s.regs[i] {
			s.regs[i], changed = n, true
		}
	}
	kept := s.stack[:0]
	for _, sl := range s.stack {
		ov, ok := o.get(sl.off)
		if !ok {
			changed = true
			continue
		}
		if n := f(sl.v, ov); n != sl.v {
			sl.v, changed = n, true
		}
		kept = append(kept, sl)
	}
	s.stack = kept
	return changed
}

// widenAfter is how often an instruction is revisited before widening.
const widenAfter = 8

// flow runs the dataflow over fn and returns the state before each
// instruction selected by want (by raw index).
func (p *program) flow(fn *function, want func(insn) bool) map[int]*state {
	pos := make(map[int]int, len(fn.insns))
	for i, ins := range fn.insns {
		pos[ins.idx] = i
	}
	in := make([]*state, len(fn.insns))
	visits := make([]int, len(fn.insns))
	entry := &state{}
	for r := asm.R1; r <= asm.R5; r++ {
		entry.regs[r] = value{kind: vArg, n: int(r)}
	}
	entry.regs[asm.R10] = value{kind: vStack}
	if len(fn.insns) == 0 {
		return nil
	}
	in[0] = entry
	work := []int{0}
	queued := make([]bool, len(fn.insns))
	queued[0] = true
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		queued[i] = false
		visits[i]++
		for _, e := range p.step(fn, fn.insns[i], in[i]) {
			j, ok := pos[e.to]
			if !ok {
				continue
			}
			if in[j] == nil {
				in[j] = e.s // step hands over states no one else holds
			} else if !in[j].merge(e.s, visits[j] > widenAfter) {
				continue
			}
			if !queued[j] {
				queued[j] = true
				work = append(work, j)
			}
		}
	}
	out := map[int]*state{}
	for i, ins := range fn.insns {
		if in[i] != nil && want(ins) {
			out[ins.idx] = in[i]
		}
	}
	return out
}

// edge is a successor with the state that flows along it.
type edge struct {
	to int // raw index
	s  *state
}

// step interprets one instruction and returns the states of its successors,
// each a new state the caller may keep.
func (p *program) step(fn *function, ins insn, in *state) []edge {
	next := ins.idx + int(ins.Size()/asm.InstructionSize)
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsJump():
		return p.jump(fn, ins, in, next)
	case cls.IsALU():
		s := in.clone()
		s.alu(ins)
		p.markCORE(s, fn, ins)
		return []edge{{next, s}}
	case cls.IsLoad():
		s := in.clone()
		s.load(p, fn, ins)
		p.markCORE(s, fn, ins)
		return []edge{{next, s}}
	case cls.IsStore():
		s := in.clone()
		s.store(ins)
		return []edge{{next, s}}
	}
	return []edge{{next, in.clone()}}
}

// markCORE tags a value an instruction with a CO-RE relocation produced.
func (p *program) markCORE(s *state, fn *function, ins insn) {
	if relo := p.core[fn.section][ins.idx]; relo != nil && ins.Dst <= asm.R10 && s.regs[ins.Dst].kind == vScalar {
		s.regs[ins.Dst].core = relo
	}
}

func (p *program) jump(fn *function, ins insn, in *state, next int) []edge {
	op := ins.OpCode
	switch op.JumpOp() {
	case asm.Exit:
		return nil
	case asm.Call:
		s := in.clone()
		s.call(p, fn, ins)
		return []edge{{next, s}}
	case asm.Ja:
		off := int(ins.Offset)
		if op.Class() == asm.Jump32Class {
			off = int(ins.Constant)
		}
		return []edge{{next + off, in.clone()}}
	}
	taken, fall := in.clone(), in.clone()
	takenOK, fallOK := refine(taken, fall, ins)
	var out []edge
	if fallOK {
		out = append(out, edge{next, fall})
	}
	if takenOK {
		out = append(out, edge{next + int(ins.Offset), taken})
	}
	return out
}

// refine narrows the compared register on both sides of a conditional jump
// against a constant, for unsigned comparisons, and reports which sides can
// be taken at all.
func refine(taken, fall *state, ins insn) (takenOK, fallOK bool) {
	op := ins.OpCode
	c, ok := uint64(ins.Constant), op.Source() == asm.ImmSource
	if op.Source() == asm.RegSource && ins.Src <= asm.R10 {
		v := taken.regs[ins.Src]
		c, ok = v.lo, v.isConst()
	}
	if !ok || ins.Dst > asm.R10 {
		return true, true
	}
	v := taken.regs[ins.Dst]
	if v.isPointer() {
		return true, true
	}
	if op.Class() == asm.Jump32Class {
		if v.kind != vScalar || v.hi > math.MaxUint32 {
			return true, true
		}
		c = uint64(uint32(c))
	}
	lo, hi := v.bounds()
	takenOK, fallOK = true, true
	set := func(s *state, lo, hi uint64) {
		if lo > hi {
			// No value takes this side: the edge is infeasible.
			takenOK = takenOK && s != taken
			fallOK = fallOK && s != fall
			return
		}
		s.regs[ins.Dst] = scalar(lo, hi)
	}
	switch op.JumpOp() {
	case asm.JEq:
		set(taken, max(lo, c), min(hi, c))
	case asm.JNE:
		set(fall, max(lo, c), min(hi, c))
	case asm.JGT: // taken: v > c
		if c == math.MaxUint64 {
			takenOK = false
		} else {
			set(taken, max(lo, c+1), hi)
		}
		set(fall, lo, min(hi, c))
	case asm.JGE:
		set(taken, max(lo, c), hi)
		if c == 0 {
			fallOK = false
		} else {
			set(fall, lo, min(hi, c-1))
		}
	case asm.JLT:
		if c == 0 {
			takenOK = false
		} else {
			set(taken, lo, min(hi, c-1))
		}
		set(fall, max(lo, c), hi)
	case asm.JLE:
		set(taken, lo, min(hi, c))
		if c == math.MaxUint64 {
			fallOK = false
		} else {
			set(fall, max(lo, c+1), hi)
		}
	}
	return takenOK, fallOK
}

// Helper function IDs from enum bpf_func_id (include/uapi/linux/bpf.h).
const (
	helperMapLookupElem        = 1
	helperPerfEventOutput      = 25
	helperRingbufOutput        = 130
	helperRingbufReserve       = 131
	helperRingbufReserveDynptr = 198
)

// call clobbers the caller-saved registers and models the helpers whose
// results a send may use.
func (s *state) call(p *program, fn *function, ins insn) {
	r0 := unknown
	if ins.IsBuiltinCall() {
		switch ins.Constant {
		case helperMapLookupElem:
			if v := s.regs[asm.R1]; v.kind == vMap {
				r0 = value{kind: vMapValue, m: v.m}
			}
		case helperRingbufReserve:
			r0 = value{kind: vReserved, n: ins.idx}
		}
	}
	// A callee may write through any stack pointer it is given: forget the
	// slots from the lowest such pointer up to the frame.
	lowest := int64(1)
	for r := asm.R1; r <= asm.R5; r++ {
		if v := s.regs[r]; v.kind == vStack && v.off < lowest {
			lowest = v.off
		}
	}
	if s.escaped {
		lowest = math.MinInt64
	}
	for r := asm.R1; r <= asm.R5; r++ {
		if s.regs[r].kind == vStackAny {
			lowest = math.MinInt64
		}
	}
	if lowest <= 0 {
		s.forget(lowest, math.MaxInt64)
	}
	for r := asm.R1; r <= asm.R5; r++ {
		s.regs[r] = unknown
	}
	s.regs[asm.R0] = r0
}

// alu interprets an arithmetic instruction.
func (s *state) alu(ins insn) {
	op := ins.OpCode
	dst := ins.Dst
	if dst > asm.R10 || ins.Src > asm.R10 {
		return
	}
	src := constant(uint64(ins.Constant))
	if op.Source() == asm.RegSource {
		src = s.regs[ins.Src]
	}
	is32 := op.Class() == asm.ALUClass
	if is32 {
		src = trunc32(src)
		if op.Source() == asm.ImmSource {
			src = constant(uint64(uint32(ins.Constant)))
		}
	}
	d := s.regs[dst]
	if is32 && op.ALUOp() != asm.Mov {
		// 32-bit operations read the low half of dst.
		d = trunc32(d)
	}
	var r value
	switch op.ALUOp() {
	case asm.Mov:
		r = src
	case asm.Add:
		r = add(d, src)
	case asm.Sub:
		r = sub(d, src)
	default:
		r = arith(op.ALUOp(), d, src)
	}
	if shift := op.ALUOp() == asm.LSh || op.ALUOp() == asm.RSh || op.ALUOp() == asm.ArSh; shift && is32 && (!src.isConst() || src.lo >= 32) {
		// The verifier refuses such a shift; the interpreter would mask it.
		r = unknown
	}
	if is32 {
		r = trunc32(r)
	}
	if r.kind == vScalar && r.core == nil {
		// Arithmetic on a relocated value is relocated too.
		if op.ALUOp() != asm.Mov {
			r.core = d.core
		}
		r.core = cmp.Or(r.core, src.core)
	}
	s.regs[dst] = r
}

// trunc32 is the value of the low 32 bits, zero-extended.
func trunc32(v value) value {
	if v.kind == vScalar && v.hi <= math.MaxUint32 {
		return v
	}
	if v.kind == vScalar && v.lo == v.hi {
		return constant(uint64(uint32(v.lo)))
	}
	return scalar(0, math.MaxUint32)
}

func add(d, src value) value {
	switch {
	case d.isPointer() && src.isConst():
		d.off += int64(src.lo)
		return d
	case src.isPointer() && d.isConst():
		src.off += int64(d.lo)
		return src
	case isStack(d) || isStack(src):
		// An index into a stack buffer: somewhere in the frame.
		return value{kind: vStackAny}
	case d.kind == vScalar && src.kind == vScalar:
		hi, carry := bits.Add64(d.hi, src.hi, 0)
		if carry != 0 {
			return unknown
		}
		return scalar(d.lo+src.lo, hi)
	}
	return unknown
}

func sub(d, src value) value {
	switch {
	case d.isPointer() && src.isConst():
		d.off -= int64(src.lo)
		return d
	case isStack(d):
		return value{kind: vStackAny}
	case d.kind == vScalar && src.kind == vScalar && d.lo >= src.hi:
		return scalar(d.lo-src.hi, d.hi-src.lo)
	}
	return unknown
}

// isStack reports a pointer into the stack frame.
func isStack(v value) bool { return v.kind == vStack || v.kind == vStackAny }

// arith handles the operators that only scalars take part in.
func arith(op asm.ALUOp, d, src value) value {
	if isStack(d) || isStack(src) {
		return value{kind: vStackAny}
	}
	if d.isPointer() || src.isPointer() {
		return unknown
	}
	lo, hi := d.bounds()
	if src.isConst() {
		c := src.lo
		switch op {
		case asm.And:
			if d.isConst() {
				return constant(lo & c)
			}
			return scalar(0, min(hi, c))
		case asm.RSh:
			if c < 64 {
				return scalar(lo>>c, hi>>c)
			}
		case asm.LSh:
			if c < 64 && hi <= math.MaxUint64>>c {
				return scalar(lo<<c, hi<<c)
			}
		case asm.Mul:
			if h, l := bits.Mul64(hi, c); h == 0 {
				return scalar(lo*c, l)
			}
		case asm.Div:
			if c != 0 {
				return scalar(lo/c, hi/c)
			}
		case asm.Mod:
			if c != 0 && d.isConst() {
				return constant(lo % c)
			}
			if c != 0 {
				return scalar(0, min(hi, c-1))
			}
		case asm.Or:
			if d.isConst() {
				return constant(lo | c)
			}
		case asm.Xor:
			if d.isConst() {
				return constant(lo ^ c)
			}
		}
	}
	return unknown
}

// load interprets a load: ld_imm64 of maps and constants, and reads of stack slots.
func (s *state) load(p *program, fn *function, ins insn) {
	op := ins.OpCode
	if ins.Dst > asm.R10 {
		return
	}
	if op.IsDWordLoad() {
		switch {
		case ins.Src == 0 && !p.hasReloc(fn, ins):
			s.regs[ins.Dst] = constant(uint64(ins.Constant))
		default:
			s.regs[ins.Dst] = unknown
			if m, ok := p.mapRef(fn, ins); ok {
				s.regs[ins.Dst] = value{kind: vMap, m: m}
			} else if sec, off, ok := p.rodataRef(fn, ins); ok {
				s.regs[ins.Dst] = value{kind: vRodata, off: off, global: &globalRef{section: sec}}
			}
		}
		return
	}
	if op.Mode() != asm.MemMode || ins.Src > asm.R10 {
		s.regs[ins.Dst] = unknown
		return
	}
	base := s.regs[ins.Src]
	size := op.Size().Sizeof()
	if base.kind == vStack && size == 8 {
		if v, ok := s.get(base.off + int64(ins.Offset)); ok {
			s.regs[ins.Dst] = v
			return
		}
	}
	if base.kind == vRodata {
		if g, ok := p.readGlobal(base.global.section, base.off+int64(ins.Offset), size); ok {
			// Bounded by its width, as any load; the default rides along.
			v := unknown
			if size < 8 {
				v = scalar(0, 1<<(8*size)-1)
			}
			v.global = g
			s.regs[ins.Dst] = v
			return
		}
	}
	// A narrower load is zero-extended: it is bounded by its width.
	if size > 0 && size < 8 {
		s.regs[ins.Dst] = scalar(0, 1<<(8*size)-1)
		return
	}
	s.regs[ins.Dst] = unknown
}

func (p *program) hasReloc(fn *function, ins insn) bool {
	_, ok := p.relocs[fn.section][ins.idx]
	return ok
}

// store interprets a store: spills to the stack are remembered, other
// writes to the stack forget the slots they touch.
func (s *state) store(ins insn) {
	op := ins.OpCode
	if ins.Dst > asm.R10 || ins.Src > asm.R10 {
		return
	}
	if op.Mode() == asm.AtomicMode {
		// Fetching atomics and cmpxchg write back into src and r0.
		s.regs[ins.Src], s.regs[asm.R0] = unknown, unknown
	}
	if op.Class() == asm.StXClass && isStack(s.regs[ins.Src]) {
		// A stack address stored to memory: anyone may write through it later.
		s.escaped = true
	}
	base := s.regs[ins.Dst]
	switch {
	case base.kind == vStackAny || (base.kind == vUnknown && s.escaped):
		// A write to a slot we cannot name.
		s.stack = s.stack[:0]
		return
	case base.kind != vStack:
		return
	}
	off := base.off + int64(ins.Offset)
	size := int64(op.Size().Sizeof())
	s.forget(off, off+size)
	if size != 8 || op.Mode() != asm.MemMode {
		return
	}
	switch op.Class() {
	case asm.StXClass:
		s.set(off, s.regs[ins.Src])
	case asm.StClass:
		s.set(off, constant(uint64(ins.Constant)))
	}
}
