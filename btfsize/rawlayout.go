package btfsize

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// errSlowPath is returned when raw BTF holds something the raw reader
// leaves to the type decoder: a type that cannot be measured, a chain of
// types deeper than half the decoder's limits, an unusual kind where a
// member's type should be. The caller then measures every type the usual
// way, which reports such inputs exactly as it always has.
var errSlowPath = errors.New("left to the type decoder")

// rawDepth bounds every walk of the raw reader: half of maxDepth and the
// 32 steps of btf.Sizeof, so that whatever it measures, the decoder path
// measures too, even where it reuses a result found deeper in the graph.
const rawDepth = 32

// rawMeasurer measures structs and unions straight from raw BTF, with the
// rules of Measure, TypeName and btf.Sizeof applied to type ids rather than
// decoded types. It remembers the size, alignment and name of every type id
// it has met: kernel structs share most member types.
type rawMeasurer struct {
	r      *rawTypes
	sizes  []int64  // by type id; -1 until known
	aligns []uint32 // by type id; 0 until known
	// heights[id] is how many levels below id finding aligns[id] went.
	heights []uint8
	names   []string // by type id; "" until known
	flex    []uint8  // by type id: 0 until known, then flexFalse or flexTrue
}

const (
	flexFalse = 1
	flexTrue  = 2
)

func newRawMeasurer(r *rawTypes) *rawMeasurer {
	n := r.count() + 1
	m := &rawMeasurer{r: r, sizes: make([]int64, n), aligns: make([]uint32, n), heights: make([]uint8, n), names: make([]string, n), flex: make([]uint8, n)}
	for i := range m.sizes {
		m.sizes[i] = -1
	}
	return m
}

// all measures every named struct and union, and typedef of one, as
// Object.All and Found.Info do for BTF without DWARF, in the order
// Report.Normalize gives them. Workers each find the candidates among a
// part of the types, then measure a part of the list, with a memo of
// their own.
func (m *rawMeasurer) all(hdr uint64, path string, workers int) ([]TypeInfo, error) {
	return m.selected(hdr, path, workers, nil)
}

// selected is all of the types keep keeps, by kind ("struct", "union" or
// "typedef") and name; nil keeps every one.
func (m *rawMeasurer) selected(hdr uint64, path string, workers int, keep func(kind, name string) bool) ([]TypeInfo, error) {
	workers = max(1, min(workers, m.r.count()/5000))
	ms := make([]*rawMeasurer, workers)
	found := make([][]candidate, workers)
	err := parallel(workers, func(w int) error {
		ms[w] = m
		if w > 0 {
			ms[w] = newRawMeasurer(m.r)
		}
		var err error
		found[w], err = ms[w].candidates(uint32(1+w*m.r.count()/workers), uint32(1+(w+1)*m.r.count()/workers), keep)
		return err
	})
	if err != nil {
		return nil, err
	}
	cands := dedupe(slices.Concat(found...))
	out := make([]TypeInfo, len(cands))
	err = parallel(workers, func(w int) error {
		var l Layout
		var slab infoSlab
		for i := w * len(cands) / workers; i < (w+1)*len(cands)/workers; i++ {
			if err := ms[w].measure(cands[i].id, cands[i].composite, &l); err != nil {
				return err
			}
			out[i] = l.info(hdr, &slab)
			out[i].Object, out[i].Source = path, "btf"
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// kindNames are the kinds of candidates as kindOf names them.
var kindNames = map[uint32]string{kindStruct: "struct", kindUnion: "union", kindTypedef: "typedef"}

// candidate is a type all reports: id, the struct or union behind it, its
// name as reported and its size.
type candidate struct {
	id, composite uint32
	kind          uint32 // kindStruct, kindUnion or kindTypedef
	name          string
	size          int64
}

// candidates lists the named structs, unions and typedefs of one among
// types from to to-1 that keep keeps.
func (m *rawMeasurer) candidates(from, to uint32, keep func(kind, name string) bool) ([]candidate, error) {
	var out []candidate
	for id := from; id < to; id++ {
		k := m.r.kind(id)
		if k != kindStruct && k != kindUnion && k != kindTypedef {
			continue
		}
		if name := m.r.name(m.r.nameOff(id)); name == "" || (keep != nil && !keep(kindNames[k], name)) {
			continue
		}
		c, ok, err := m.composite(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		size, err := m.sizeof(id)
		if err != nil {
			return nil, err
		}
		name, err := m.typeName(id)
		if err != nil {
			return nil, err
		}
		out = append(out, candidate{id, c, k, name, size})
	}
	return out, nil
}

// dedupe drops each candidate that an earlier one (by id) of the same kind,
// name and size makes a twin, as Object.All does, and sorts the rest by
// reported name, then id: the order a stable sort by name of types in id
// order gives.
func dedupe(cands []candidate) []candidate {
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(a.kind, b.kind), cmp.Compare(a.size, b.size), cmp.Compare(a.id, b.id))
	})
	out := cands[:0]
	for _, c := range cands {
		if n := len(out); n > 0 && out[n-1].name == c.name && out[n-1].kind == c.kind && out[n-1].size == c.size {
			continue
		}
		out = append(out, c)
	}
	// Types of one reported name (rarely more than one) back in id order.
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].name == out[i].name {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(out[i:j], func(a, b candidate) int { return cmp.Compare(a.id, b.id) })
		}
		i = j
	}
	return out
}

// parallel runs f(0) … f(n-1) at once and returns the first error.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = f(i) })
	}
	errs[0] = f(0)
	wg.Wait()
	return errors.Join(errs...)
}

// composite follows typedefs and qualifiers from id to a struct or union,
// as Composite does.
func (m *rawMeasurer) composite(id uint32) (uint32, bool, error) {
	for range rawDepth {
		if id == 0 {
			return 0, false, nil
		}
		if !m.r.valid(id) {
			return 0, false, errSlowPath
		}
		t := m.r.at(id)
		switch t.kind {
		case kindStruct, kindUnion:
			return id, true, nil
		case kindTypedef, kindConst, kindVolatile, kindTypeTag:
			id = t.sizeType
		default:
			return 0, false, nil
		}
	}
	return 0, false, errSlowPath
}

// measure fills l with the layout of struct or union c, reached from id.
func (m *rawMeasurer) measure(id, c uint32, l *Layout) error {
	name, err := m.typeName(id)
	if err != nil {
		return err
	}
	t := m.r.at(c)
	// l is reused from type to type: keep its buffers.
	members, order, scratch := l.Members[:0], l.OptimalOrder[:0], l.scratch
	*l = Layout{Name: name, Union: t.kind == kindUnion, Size: t.sizeType, OptimalOrder: order, scratch: scratch}
	if l.Align, err = m.alignof(c, 0); err != nil {
		return err
	}
	for i := range t.vlen {
		nameOff, typ, off, bits := m.member(t, i)
		size, err := m.sizeof(typ)
		if err != nil {
			return err
		}
		if size > math.MaxUint32 {
			return errSlowPath
		}
		a, err := m.alignof(typ, 0)
		if err != nil {
			return err
		}
		tn, err := m.typeName(typ)
		if err != nil {
			return err
		}
		flex, err := m.flexible(typ)
		if err != nil {
			return err
		}
		members = append(members, MemberLayout{
			Name:      m.r.name(nameOff),
			TypeName:  tn,
			Offset:    uint32(off / 8),
			Size:      uint32(size),
			Align:     a,
			BitOffset: off,
			BitSize:   bits,
			flexible:  flex,
		})
	}
	l.Members = members
	l.finish()
	return nil
}

// member returns member i of struct or union t as the decoder converts it:
// with the kind flag, the bitfield size is in the top byte of the offset;
// without it, a member of a bitfield int type takes that int's offset and
// width (legacy bitfields).
func (m *rawMeasurer) member(t rawType, i int) (nameOff, typ uint32, off, bits btf.Bits) {
	b := t.data[i*12:]
	nameOff, typ, raw := m.r.u32(b), m.r.u32(b[4:]), m.r.u32(b[8:])
	if t.kflag {
		return nameOff, typ, btf.Bits(raw & 0xffffff), btf.Bits(raw >> 24)
	}
	off = btf.Bits(raw)
	if typ != 0 && m.r.valid(typ) && m.r.kind(typ) == kindInt {
		it := m.r.at(typ)
		enc := m.r.u32(it.data)
		intOff, intBits := btf.Bits(enc>>16&0xff), btf.Bits(enc&0xff)
		if intOff > 0 || uint32(intBits/8) != it.sizeType {
			return nameOff, typ, off + intOff, intBits
		}
	}
	return nameOff, typ, off, 0
}

// sizeof is btf.Sizeof of type id.
func (m *rawMeasurer) sizeof(id uint32) (int64, error) {
	if !m.r.valid(id) {
		return 0, errSlowPath
	}
	if s := m.sizes[id]; s >= 0 {
		return s, nil
	}
	n, start := int64(1), id
	for range rawDepth {
		if id == 0 {
			m.sizes[start] = 0
			return 0, nil
		}
		if !m.r.valid(id) {
			return 0, errSlowPath
		}
		t := m.r.at(id)
		var elem int64
		switch t.kind {
		case kindArray:
			nelems := int64(m.r.u32(t.data[8:]))
			if n > 0 && nelems > math.MaxInt64/n {
				return 0, errSlowPath
			}
			n *= nelems
			id = m.r.u32(t.data)
			continue
		case kindTypedef, kindConst, kindVolatile, kindRestrict, kindTypeTag:
			id = t.sizeType
			continue
		case kindPtr:
			elem = ptrSize
		case kindInt, kindStruct, kindUnion, kindEnum, kindEnum64, kindFloat:
			elem = int64(t.sizeType)
		default:
			return 0, errSlowPath
		}
		if n > 0 && elem > math.MaxInt64/n {
			return 0, errSlowPath
		}
		m.sizes[start] = n * elem
		return n * elem, nil
	}
	return 0, errSlowPath
}

// alignof is Alignof of type id, reached at depth.
func (m *rawMeasurer) alignof(id uint32, depth int) (uint32, error) {
	a, _, err := m.alignHeight(id, depth)
	return a, err
}

// alignHeight is alignof, and how many levels deeper than id finding it
// went: a remembered alignment is used again only where reaching it anew
// would stay within rawDepth, as Alignof walks the graph each time.
func (m *rawMeasurer) alignHeight(id uint32, depth int) (uint32, int, error) {
	if depth > rawDepth || id == 0 || !m.r.valid(id) {
		return 0, 0, errSlowPath
	}
	if a := m.aligns[id]; a > 0 {
		h := int(m.heights[id])
		if depth+h > rawDepth {
			return 0, 0, errSlowPath
		}
		return a, h, nil
	}
	t := m.r.at(id)
	var a uint32
	var h int
	var err error
	switch t.kind {
	case kindInt, kindEnum, kindEnum64, kindFloat:
		a = min(ptrSize, max(t.sizeType, 1))
	case kindPtr:
		a = ptrSize
	case kindTypedef, kindConst, kindVolatile, kindRestrict, kindTypeTag:
		a, h, err = m.alignHeight(t.sizeType, depth+1)
		h++
	case kindArray:
		a, h, err = m.alignHeight(m.r.u32(t.data), depth+1)
		h++
	case kindStruct, kindUnion:
		a, h, err = m.compositeAlign(t, depth)
	default:
		return 0, 0, errSlowPath
	}
	if err != nil {
		return 0, 0, err
	}
	m.aligns[id], m.heights[id] = a, uint8(h)
	return a, h, nil
}

// compositeAlign is compositeAlign of a raw struct or union, and the height
// of the members it looked at.
func (m *rawMeasurer) compositeAlign(t rawType, depth int) (uint32, int, error) {
	maxAlign, height := uint32(1), 0
	for i := range t.vlen {
		_, typ, off, bits := m.member(t, i)
		a, h, err := m.alignHeight(typ, depth+1)
		if err != nil {
			return 0, 0, err
		}
		maxAlign, height = max(maxAlign, a), max(height, h+1)
		if bits == 0 && uint32(off)%(8*a) != 0 {
			return 1, height, nil
		}
	}
	if t.sizeType%maxAlign != 0 {
		return 1, height, nil
	}
	return maxAlign, height, nil
}

// flexible reports an array of no elements behind typedefs and qualifiers,
// as btf.UnderlyingType sees it.
func (m *rawMeasurer) flexible(id uint32) (bool, error) {
	if !m.r.valid(id) {
		return false, errSlowPath
	}
	if f := m.flex[id]; f != 0 {
		return f == flexTrue, nil
	}
	flex, err := m.underlyingFlexible(id)
	if err == nil {
		m.flex[id] = flexFalse
		if flex {
			m.flex[id] = flexTrue
		}
	}
	return flex, err
}

func (m *rawMeasurer) underlyingFlexible(id uint32) (bool, error) {
	for range rawDepth {
		if id == 0 {
			return false, nil
		}
		if !m.r.valid(id) {
			return false, errSlowPath
		}
		t := m.r.at(id)
		switch t.kind {
		case kindTypedef, kindConst, kindVolatile, kindRestrict, kindTypeTag:
			id = t.sizeType
		case kindArray:
			return m.r.u32(t.data[8:]) == 0, nil
		default:
			return false, nil
		}
	}
	return false, errSlowPath
}

// typeName is TypeName of type id.
func (m *rawMeasurer) typeName(id uint32) (string, error) {
	if !m.r.valid(id) {
		return "", errSlowPath
	}
	if n := m.names[id]; n != "" {
		return n, nil
	}
	n, err := m.spell(id, 0)
	if err == nil {
		m.names[id] = n
	}
	return n, err
}

func (m *rawMeasurer) spell(id uint32, depth int) (string, error) {
	if depth > rawDepth || !m.r.valid(id) {
		return "", errSlowPath
	}
	if id == 0 {
		return "void", nil
	}
	t := m.r.at(id)
	name := m.r.name(t.nameOff)
	switch t.kind {
	case kindStruct:
		return tagged("struct", name), nil
	case kindUnion:
		return tagged("union", name), nil
	case kindEnum, kindEnum64:
		return tagged("enum", name), nil
	case kindFwd:
		if t.kflag {
			return tagged("union", name), nil
		}
		return tagged("struct", name), nil
	case kindPtr:
		s, err := m.spell(t.sizeType, depth+1)
		return s + " *", err
	case kindArray:
		dims := m.appendDim(nil, t)
		id = m.r.u32(t.data)
		for id != 0 && m.r.valid(id) {
			inner := m.r.at(id)
			if inner.kind != kindArray {
				break
			}
			if depth > rawDepth {
				return "", errSlowPath
			}
			dims = m.appendDim(dims, inner)
			id = m.r.u32(inner.data)
			depth++
		}
		s, err := m.spell(id, depth+1)
		return s + " " + string(dims), err
	case kindConst:
		s, err := m.spell(t.sizeType, depth+1)
		return "const " + s, err
	case kindVolatile:
		s, err := m.spell(t.sizeType, depth+1)
		return "volatile " + s, err
	case kindRestrict:
		s, err := m.spell(t.sizeType, depth+1)
		return s + " restrict", err
	case kindTypeTag:
		return m.spell(t.sizeType, depth+1)
	case kindFuncProto:
		return "fn", nil
	case kindDeclTag:
		return "<anon>", nil
	}
	if name != "" {
		return name, nil
	}
	return "<anon>", nil
}

// appendDim appends "[N]" for array t.
func (m *rawMeasurer) appendDim(b []byte, t rawType) []byte {
	b = append(b, '[')
	b = strconv.AppendUint(b, uint64(m.r.u32(t.data[8:])), 10)
	return append(b, ']')
}
