package btfsize

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cilium/ebpf/btf"
)

// Errors returned by Measure.
var (
	// ErrNotComposite is returned for a type that is neither a struct nor a union.
	ErrNotComposite = errors.New("not a struct or union")
	// ErrIncomplete is returned for a forward declaration or a type whose size is unknown.
	ErrIncomplete = errors.New("incomplete type")
)

// ptrSize is the size of a pointer on the BPF target, in bytes.
const ptrSize = 8

// Layout is the measured memory layout of one struct or union.
type Layout struct {
	// Name in C spelling: "struct event", "union u" or a typedef name.
	Name string
	// Type is the struct or union measured (typedefs and qualifiers stripped).
	Type btf.Type
	// Union is true for a union.
	Union bool
	// Size in bytes, as recorded in the type information.
	Size uint32
	// Align is the alignment in bytes, by libbpf's btf__align_of rules.
	Align uint32
	// Packed is true when the layout shows the type must be packed.
	Packed bool
	// Members in offset order.
	Members []MemberLayout
	// Holes is the number of interior gaps of whole bytes.
	Holes int
	// HoleBytes is the sum of the interior gaps, in bytes.
	HoleBytes uint32
	// BitHoles is the number of unused runs of bits inside bitfield units.
	BitHoles int
	// BitHoleBits is the sum of those runs, in bits.
	BitHoleBits btf.Bits
	// BitPadding is the unused bits at the end of the last bitfield unit.
	BitPadding btf.Bits
	// Padding is the tail gap, in bytes.
	Padding uint32
	// OptimalSize is the size in bytes after reordering members
	// (largest alignment first, then largest size).
	OptimalSize uint32
	// OptimalOrder lists member indexes (into Members) in the optimal order.
	OptimalOrder []int

	// scratch holds the blocks optimize sorts, kept for the next layout
	// when one Layout measures many types.
	scratch []block
}

// MemberLayout is one member of a Layout.
type MemberLayout struct {
	// Name of the member, empty for an anonymous struct or union.
	Name string
	// TypeName in C spelling.
	TypeName string
	// Type of the member.
	Type btf.Type
	// Offset from the start of the containing type, in bytes (the byte holding
	// the first bit for a bitfield).
	Offset uint32
	// Size in bytes (the size of the storage unit for a bitfield).
	Size uint32
	// Align in bytes.
	Align uint32
	// BitOffset from the start of the containing type, in bits.
	BitOffset btf.Bits
	// BitSize is the width of a bitfield in bits, 0 for a plain member.
	BitSize btf.Bits
	// Forced is true when Align was given explicitly or inferred from a
	// hole that natural alignment does not explain.
	Forced bool
	// HoleAfter is the gap of whole bytes that follows this member, in bytes.
	HoleAfter uint32
	// BitHoleAfter is the gap of unused bits that follows this bitfield, in bits.
	BitHoleAfter btf.Bits

	// flexible marks an array of no elements, which must stay last.
	flexible bool
}

// Aligner supplies alignments that type information other than BTF records,
// such as DWARF's DW_AT_alignment for __attribute__((aligned(N))).
type Aligner interface {
	// Alignment returns the explicit alignment of t in bytes, if recorded.
	Alignment(t btf.Type) (uint32, bool)
}

// align rounds x up to the next multiple of a, which must be a power of two.
func align(x, a uint32) uint32 { return (x + a - 1) &^ (a - 1) }

// Alignof returns the alignment of t in bytes, following libbpf's btf__align_of
// (tools/lib/bpf/btf.c), including its detection of packed structs. al may be nil.
func Alignof(t btf.Type, al Aligner) (uint32, error) {
	return alignof(t, al, 0)
}

func alignof(t btf.Type, al Aligner, depth int) (uint32, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("alignment of %s: type nests too deep", TypeName(t))
	}
	if al != nil {
		if a, ok := al.Alignment(t); ok && a > 0 {
			return a, nil
		}
	}
	switch t := t.(type) {
	case *btf.Int:
		return min(ptrSize, max(t.Size, 1)), nil
	case *btf.Enum:
		return min(ptrSize, max(t.Size, 1)), nil
	case *btf.Float:
		return min(ptrSize, max(t.Size, 1)), nil
	case *btf.Pointer:
		return ptrSize, nil
	case *btf.Typedef:
		return alignof(t.Type, al, depth+1)
	case *btf.Const:
		return alignof(t.Type, al, depth+1)
	case *btf.Volatile:
		return alignof(t.Type, al, depth+1)
	case *btf.Restrict:
		return alignof(t.Type, al, depth+1)
	case *btf.TypeTag:
		return alignof(t.Type, al, depth+1)
	case *btf.Array:
		return alignof(t.Type, al, depth+1)
	case *btf.Struct:
		return compositeAlign(t.Members, t.Size, al, depth)
	case *btf.Union:
		return compositeAlign(t.Members, t.Size, al, depth)
	case *btf.Fwd:
		return 0, fmt.Errorf("%s: %w", TypeName(t), ErrIncomplete)
	}
	return 0, fmt.Errorf("alignment of %s: unsupported kind %T", TypeName(t), t)
}

// compositeAlign is the largest member alignment, or 1 when a member sits at an
// offset its own alignment forbids or the size is not a multiple of the
// alignment: then the type must be packed (libbpf's btf__align_of).
func compositeAlign(members []btf.Member, size uint32, al Aligner, depth int) (uint32, error) {
	maxAlign := uint32(1)
	for _, m := range members {
		a, err := alignof(m.Type, al, depth+1)
		if err != nil {
			return 0, err
		}
		maxAlign = max(maxAlign, a)
		if m.BitfieldSize == 0 && uint32(m.Offset)%(8*a) != 0 {
			return 1, nil
		}
	}
	if size%maxAlign != 0 {
		return 1, nil
	}
	return maxAlign, nil
}

// maxDepth bounds recursion through hostile or cyclic type graphs.
const maxDepth = 64

// unqualified strips const and volatile from t, and with arrays also the
// array dimensions, within maxDepth steps so hostile cycles end.
func unqualified(t btf.Type, arrays bool) btf.Type {
	for range maxDepth {
		switch u := t.(type) {
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.Array:
			if !arrays {
				return t
			}
			t = u.Type
		default:
			return t
		}
	}
	return t
}

// Composite returns the struct or union behind typedefs and qualifiers.
func Composite(t btf.Type) (btf.Type, bool) {
	for range maxDepth {
		switch u := t.(type) {
		case *btf.Struct, *btf.Union:
			return u, true
		case *btf.Typedef:
			t = u.Type
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.TypeTag:
			t = u.Type
		default:
			return nil, false
		}
	}
	return nil, false
}

// Measure computes the layout of t, a struct or union possibly behind typedefs.
// al may be nil.
func Measure(t btf.Type, al Aligner) (*Layout, error) {
	c, ok := Composite(t)
	if !ok {
		if _, fwd := btf.UnderlyingType(t).(*btf.Fwd); fwd {
			return nil, fmt.Errorf("%s: %w", TypeName(t), ErrIncomplete)
		}
		return nil, fmt.Errorf("%s: %w", TypeName(t), ErrNotComposite)
	}
	l := &Layout{Name: TypeName(t), Type: c}
	var members []btf.Member
	switch c := c.(type) {
	case *btf.Struct:
		l.Size, members = c.Size, c.Members
	case *btf.Union:
		l.Size, members, l.Union = c.Size, c.Members, true
	}
	a, err := Alignof(c, al)
	if err != nil {
		return nil, err
	}
	l.Align = a
	if err := l.addMembers(c, members, al); err != nil {
		return nil, err
	}
	l.finish()
	return l, nil
}

// finish measures a layout whose name, size, alignment and members are
// known: it sorts the members by offset, then finds packing, forced
// alignments, gaps and the optimal order.
func (l *Layout) finish() {
	slices.SortStableFunc(l.Members, func(a, b MemberLayout) int { return int(a.BitOffset) - int(b.BitOffset) })
	l.Packed = l.Align == 1 && slices.ContainsFunc(l.Members, func(m MemberLayout) bool { return m.Align > 1 })
	if !l.Union && !l.Packed {
		l.Align = max(l.Align, l.forceAlignments())
	}
	l.measureGaps()
	l.optimize()
}

// MemberAligner is an Aligner that also knows the alignments given to
// members, as in `u8 key[16] __attribute__((aligned(16)))`.
type MemberAligner interface {
	MemberAlignment(s btf.Type, i int) (uint32, bool)
}

func (l *Layout) addMembers(owner btf.Type, members []btf.Member, al Aligner) error {
	ma, _ := al.(MemberAligner)
	for i, m := range members {
		ml, err := measureMember(m, al)
		if err != nil {
			return fmt.Errorf("member %d (%s): %w", i, m.Name, err)
		}
		if ma != nil {
			if a, ok := ma.MemberAlignment(owner, i); ok && a > ml.Align {
				ml.Align, ml.Forced = a, true
			}
		}
		l.Members = append(l.Members, ml)
	}
	return nil
}

func measureMember(m btf.Member, al Aligner) (MemberLayout, error) {
	size, err := btf.Sizeof(m.Type)
	if err != nil {
		return MemberLayout{}, err
	}
	a, err := Alignof(m.Type, al)
	if err != nil {
		return MemberLayout{}, err
	}
	arr, isArray := btf.UnderlyingType(m.Type).(*btf.Array)
	return MemberLayout{
		Name:      m.Name,
		TypeName:  TypeName(m.Type),
		Type:      m.Type,
		Offset:    uint32(m.Offset / 8),
		Size:      uint32(size),
		Align:     a,
		BitOffset: m.Offset,
		BitSize:   m.BitfieldSize,
		flexible:  isArray && arr.Nelems == 0,
	}, nil
}

// maxForcedAlign caps inferred alignments at a cache line, in bytes.
const maxForcedAlign = 64

// forceAlignments infers, as pahole does for BTF, that a member preceded by
// a hole its natural alignment does not explain was aligned explicitly: to
// the largest power of two that divides its offset. It returns the largest
// member alignment, explicit or inferred.
func (l *Layout) forceAlignments() uint32 {
	var end btf.Bits // end of the data before the member, in bits
	largest := uint32(1)
	for i := range l.Members {
		m := &l.Members[i]
		if m.BitSize == 0 && !m.Forced && m.Offset > 0 && m.BitOffset%8 == 0 {
			natural := align(uint32(align8(end)/8), max(m.Align, 1))
			if m.Offset > natural {
				forced := min(m.Offset&-m.Offset, maxForcedAlign)
				// The containing type is at least as aligned as its
				// members: an alignment its size is not a multiple of
				// cannot have been forced.
				for forced > m.Align && l.Size%forced != 0 {
					forced /= 2
				}
				if forced > m.Align {
					m.Align, m.Forced = forced, true
				}
			}
		}
		end = max(end, m.dataEnd())
		largest = max(largest, m.Align)
	}
	return largest
}

// unitEnd is where the storage of member m ends, in bits: the end of the
// aligned storage unit of its type for a bitfield, as pahole reads it.
func (m *MemberLayout) unitEnd() btf.Bits {
	unit := btf.Bits(m.Size) * 8
	if m.BitSize == 0 || unit == 0 {
		return m.BitOffset + unit
	}
	start := m.BitOffset / unit * unit
	end := start + unit
	if m.BitOffset+m.BitSize > end {
		// A bitfield straddling its unit (packed structs): it ends where its bits end.
		return m.BitOffset + m.BitSize
	}
	return end
}

// unitStart is where the storage unit of bitfield m starts, in bits (a unit
// of a byte for a type of no size); its own offset for a unit too large to
// count in bits.
func (m *MemberLayout) unitStart() btf.Bits {
	size := max(m.Size, 1)
	if size > math.MaxUint32/8 {
		return m.BitOffset
	}
	unit := btf.Bits(size) * 8
	return m.BitOffset / unit * unit
}

// dataEnd is the bit after the last bit m occupies.
func (m *MemberLayout) dataEnd() btf.Bits {
	if m.BitSize != 0 {
		return m.BitOffset + m.BitSize
	}
	return m.BitOffset + btf.Bits(m.Size)*8
}

// measureGaps finds holes, bit holes and padding. A union has no holes: only
// tail padding after its largest member.
func (l *Layout) measureGaps() {
	size := btf.Bits(l.Size) * 8
	if l.Union {
		var end btf.Bits
		for i := range l.Members {
			end = max(end, l.Members[i].dataEnd())
		}
		l.Padding = uint32(max(size-min(align8(end), size), 0) / 8)
		return
	}
	var cur, unit btf.Bits // end of data so far; end of the current bitfield unit
	var prev *MemberLayout
	for i := range l.Members {
		m := &l.Members[i]
		if m.BitOffset < cur {
			// Overlap (anonymous unions in packed bitfields, hostile input): no gap.
			cur = max(cur, m.dataEnd())
			unit = max(unit, m.unitEnd())
			prev = m
			continue
		}
		if prev != nil {
			l.gap(prev, cur, unit, m.BitOffset)
		} else {
			l.leadingGap(m)
		}
		if prev != nil && prev.BitSize != 0 && m.BitSize != 0 && m.BitOffset < unit {
			// Bitfields combined into one run keep its widest unit, as
			// pahole reads "Bitfield combined with next fields".
			unit = max(unit, m.unitEnd())
		} else {
			unit = m.unitEnd()
		}
		cur = m.dataEnd()
		prev = m
	}
	if prev == nil {
		l.Padding = l.Size
		return
	}
	end := cur
	if prev.BitSize != 0 {
		// Bits left unused at the end of the last bitfield unit.
		end = max(cur, min(unit, size))
		l.BitPadding = end - cur
	}
	if size > end {
		l.Padding = uint32((size - align8(end)) / 8)
	}
}

// leadingGap records a gap before the first member: bits of its bitfield
// unit that come before it, and whole bytes before that unit.
func (l *Layout) leadingGap(m *MemberLayout) {
	start := m.BitOffset
	if m.BitSize != 0 && m.Size > 0 {
		start = m.unitStart()
		if bits := m.BitOffset - start; bits > 0 {
			l.BitHoles++
			l.BitHoleBits += bits
		}
	}
	if bytes := uint32(start / 8); bytes > 0 {
		l.Holes++
		l.HoleBytes += bytes
	}
}

// align8 rounds bits up to whole bytes.
func align8(b btf.Bits) btf.Bits { return (b + 7) &^ 7 }

// gap records the gap between prev (which ends its data at cur and its unit at
// unit) and the next member starting at next.
func (l *Layout) gap(prev *MemberLayout, cur, unit, next btf.Bits) {
	if next <= cur {
		return
	}
	bits := btf.Bits(0)
	if prev.BitSize != 0 && cur < unit {
		// Unused bits left in the bitfield unit of prev.
		bits = min(unit, next) - cur
		cur += bits
	}
	if cur%8 != 0 && next > cur {
		// A bitfield that does not end on a byte: the rest of the byte.
		b := min(align8(cur), next) - cur
		bits += b
		cur += b
	}
	var bytes uint32
	if next > cur {
		bytes = uint32((next - cur) / 8)
		// A bitfield that starts inside a byte: the bits before it.
		bits += (next - cur) % 8
	}
	if bits > 0 {
		l.BitHoles++
		l.BitHoleBits += bits
		prev.BitHoleAfter = bits
	}
	if bytes > 0 {
		l.Holes++
		l.HoleBytes += bytes
		prev.HoleAfter = bytes
	}
}

// block is a run of members that move together when reordering: a plain member,
// or the bitfields sharing one storage unit.
type block struct {
	first, last int // indexes into Members
	size, align uint32
}

// optimize computes the optimal member order. Unions, packed types and types
// with at most one member keep their order and size.
func (l *Layout) optimize() {
	l.OptimalOrder = slices.Grow(l.OptimalOrder[:0], len(l.Members))[:len(l.Members)]
	for i := range l.OptimalOrder {
		l.OptimalOrder[i] = i
	}
	l.OptimalSize = l.Size
	if l.Union || l.Align == 1 || len(l.Members) < 2 || l.overlaps() {
		return
	}
	blocks := l.blocks()
	l.scratch = blocks
	tail := 0
	if n := len(blocks); n > 0 && l.isFlexible(blocks[n-1]) {
		// A flexible array member must stay last.
		tail = 1
	}
	sorted := blocks[:len(blocks)-tail]
	slices.SortStableFunc(sorted, func(a, b block) int {
		// Largest alignment first: no member then needs a hole before it.
		if a.align != b.align {
			return int(b.align) - int(a.align)
		}
		// Then largest size, so equal alignments pack the same way pahole's
		// --reorganize and fieldalignment would order them.
		return int(b.size) - int(a.size)
	})
	sorted = append(sorted, blocks[len(blocks)-tail:]...)
	var off uint32
	order := l.OptimalOrder[:0]
	for _, b := range sorted {
		off = align(off, b.align) + b.size
		for i := b.first; i <= b.last; i++ {
			order = append(order, i)
		}
	}
	if opt := align(off, l.Align); opt < l.Size {
		l.OptimalSize = opt
		return
	}
	for i := range l.OptimalOrder {
		l.OptimalOrder[i] = i
	}
}

// overlaps reports members that share bytes outside bitfield units, which
// reordering cannot preserve.
func (l *Layout) overlaps() bool {
	for i := 1; i < len(l.Members); i++ {
		p, m := &l.Members[i-1], &l.Members[i]
		if m.BitOffset < p.dataEnd() && (m.BitSize == 0 || p.BitSize == 0) {
			return true
		}
	}
	return false
}

func (l *Layout) isFlexible(b block) bool {
	return l.Members[b.last].flexible && b.last == len(l.Members)-1
}

// blocks groups members into units that move together.
func (l *Layout) blocks() []block {
	bs := l.scratch[:0]
	for i := 0; i < len(l.Members); i++ {
		m := &l.Members[i]
		b := block{first: i, last: i, size: m.Size, align: m.Align}
		if m.BitSize != 0 {
			unit := m.unitEnd()
			for i+1 < len(l.Members) && l.Members[i+1].BitSize != 0 && l.Members[i+1].BitOffset < unit {
				i++
				b.last = i
				unit = max(unit, l.Members[i].unitEnd())
			}
			start := m.unitStart()
			b.size = uint32(align8(unit-start) / 8)
		}
		bs = append(bs, b)
	}
	return bs
}
