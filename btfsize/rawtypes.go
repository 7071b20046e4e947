package btfsize

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// rawTypes indexes raw BTF (include/uapi/linux/btf.h) without decoding it:
// a header, btf_type records each followed by kind-specific data, then the
// string section. It is what lets --all measure the kernel's 10,000 structs
// without building a Go value for each of its 100,000 types.
type rawTypes struct {
	big   bool     // the byte order is big-endian
	types []byte   // the type section
	strs  []byte   // the string section
	offs  []uint32 // offs[id-1] is where type id starts in types
	infos []uint32 // infos[id-1] is the info word of type id: kind, kind flag, vlen
}

// BTF kinds.
const (
	kindInt       = 1
	kindPtr       = 2
	kindArray     = 3
	kindStruct    = 4
	kindUnion     = 5
	kindEnum      = 6
	kindFwd       = 7
	kindTypedef   = 8
	kindVolatile  = 9
	kindConst     = 10
	kindRestrict  = 11
	kindFunc      = 12
	kindFuncProto = 13
	kindVar       = 14
	kindDatasec   = 15
	kindFloat     = 16
	kindDeclTag   = 17
	kindTypeTag   = 18
	kindEnum64    = 19
)

// btfHeaderLen is the size of struct btf_header; btfLayoutLen that of the
// optional layout section fields newer kernels append to it.
const (
	btfHeaderLen = 24
	btfLayoutLen = 8
)

// kindData is the size of the data after a btf_type of kind: a fixed part
// and a part per vlen entry; -1 for an unknown kind.
func kindData(kind uint32) (fixed, each int) {
	switch kind {
	case kindInt, kindVar, kindDeclTag:
		return 4, 0
	case kindPtr, kindFwd, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindFloat, kindTypeTag:
		return 0, 0
	case kindArray:
		return 12, 0
	case kindStruct, kindUnion, kindDatasec, kindEnum64:
		return 0, 12
	case kindEnum, kindFuncProto:
		return 0, 8
	}
	return -1, 0
}

// parseRawTypes indexes raw BTF that is not split BTF. It checks what
// cilium/ebpf's loader checks, so that BTF it accepts, cilium/ebpf accepts
// too: the header, both sections in bounds, a string section that starts
// and ends with NUL, every type record complete and of a known kind, and
// every type's name a string of the section.
func parseRawTypes(raw []byte) (*rawTypes, error) {
	bo, err := btfByteOrder(raw)
	if err != nil {
		return nil, err
	}
	if len(raw) < btfHeaderLen {
		return nil, errors.New("btf header truncated")
	}
	if raw[2] != 1 {
		return nil, fmt.Errorf("btf version %d", raw[2])
	}
	if raw[3] != 0 {
		return nil, fmt.Errorf("btf flags %#x", raw[3])
	}
	hdrLen := bo.Uint32(raw[4:])
	if hdrLen < btfHeaderLen || uint64(hdrLen) > uint64(len(raw)) {
		return nil, errors.New("btf header length out of bounds")
	}
	trailer := raw[btfHeaderLen:hdrLen]
	if len(trailer) >= btfLayoutLen {
		trailer = trailer[btfLayoutLen:]
	}
	if slices.ContainsFunc(trailer, func(b byte) bool { return b != 0 }) {
		return nil, errors.New("btf header has a non-zero trailer")
	}
	body := raw[hdrLen:]
	types, ok := sliceAt(body, uint64(bo.Uint32(raw[8:])), uint64(bo.Uint32(raw[12:])))
	if !ok {
		return nil, errors.New("btf type section out of bounds")
	}
	strs, ok := sliceAt(body, uint64(bo.Uint32(raw[16:])), uint64(bo.Uint32(raw[20:])))
	if !ok {
		return nil, errors.New("btf string section out of bounds")
	}
	if len(strs) > 0 && (strs[0] != 0 || strs[len(strs)-1] != 0) {
		return nil, errors.New("btf string section is not NUL-delimited")
	}
	r := &rawTypes{big: bo == binary.BigEndian, types: types, strs: strs}
	r.offs = make([]uint32, 0, len(types)/32)
	r.infos = make([]uint32, 0, len(types)/32)
	for off := 0; off < len(types); {
		if len(types)-off < 12 {
			return nil, errors.New("btf type section truncated")
		}
		info := r.u32(types[off+4:])
		fixed, each := kindData(info >> 24 & 0x1f)
		if fixed < 0 {
			return nil, fmt.Errorf("btf: unknown kind %d (a newer btfsize may read it)", info>>24&0x1f)
		}
		if !r.validName(r.u32(types[off:])) {
			return nil, fmt.Errorf("btf type %d: name out of bounds", len(r.offs)+1)
		}
		end := off + 12 + fixed + each*int(info&0xffff)
		if end > len(types) {
			return nil, errors.New("btf type section truncated")
		}
		r.offs = append(r.offs, uint32(off))
		r.infos = append(r.infos, info)
		off = end
	}
	return r, nil
}

// u32 reads a number in the byte order of r: inlined, unlike a call
// through binary.ByteOrder, in loops over every type.
func (r *rawTypes) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// validName reports whether off starts a string of the section. The
// section ends with NUL, so every string that starts in it ends in it.
func (r *rawTypes) validName(off uint32) bool {
	return off == 0 || uint64(off) < uint64(len(r.strs)) && r.strs[off-1] == 0
}

// name returns the string at off, "" unless validName, without copying
// it: the raw bytes are never written once read.
func (r *rawTypes) name(off uint32) string {
	if off == 0 || !r.validName(off) {
		return ""
	}
	s := r.strs[off:]
	n := bytes.IndexByte(s, 0)
	if n == 0 {
		return ""
	}
	return unsafe.String(&s[0], n)
}

// rawType is the btf_type record of one type and the data that follows it.
type rawType struct {
	nameOff uint32
	kind    uint32
	vlen    int
	kflag   bool
	// sizeType is the size of sized kinds, the referenced type of others.
	sizeType uint32
	data     []byte
}

// count is the number of types, void excluded.
func (r *rawTypes) count() int { return len(r.offs) }

// adjustedByELF reports a data section that cilium/ebpf completes from the
// ELF holding the BTF when it decodes it: .ksyms, .kconfig, or one of no
// size. The raw reader leaves the types of such BTF to the decoder.
func (r *rawTypes) adjustedByELF() bool {
	for id := uint32(1); int(id) <= r.count(); id++ {
		if r.kind(id) != kindDatasec {
			continue
		}
		if name := r.name(r.nameOff(id)); name == ".ksyms" || name == ".kconfig" || r.at(id).sizeType == 0 {
			return true
		}
	}
	return false
}

// nameOff returns the name offset of type id (1 to count).
func (r *rawTypes) nameOff(id uint32) uint32 { return r.u32(r.types[r.offs[id-1]:]) }

// kind returns the kind of type id (1 to count).
func (r *rawTypes) kind(id uint32) uint32 { return r.infos[id-1] >> 24 & 0x1f }

// at returns type id (1 to count); the index is valid by construction.
func (r *rawTypes) at(id uint32) rawType {
	b := r.types[r.offs[id-1]:]
	info := r.infos[id-1]
	t := rawType{
		nameOff:  r.u32(b),
		kind:     info >> 24 & 0x1f,
		vlen:     int(info & 0xffff),
		kflag:    info>>31 == 1,
		sizeType: r.u32(b[8:]),
	}
	// The data runs to the end of the section: parseRawTypes has checked
	// that what the kind says follows the record is there.
	t.data = b[12:]
	return t
}

// valid reports whether id names a type: void (0) or one of the section.
func (r *rawTypes) valid(id uint32) bool { return uint64(id) <= uint64(len(r.offs)) }

// checkRefs checks what decoding every type would: each type id a type
// refers to exists, and each name of a member, enumerator or parameter is a
// string. BTF that passes decodes without error. Workers check parts each.
func (r *rawTypes) checkRefs(workers int) error {
	workers = max(1, min(workers, r.count()/10000))
	return parallel(workers, func(w int) error {
		return r.checkRange(uint32(1+w*r.count()/workers), uint32(1+(w+1)*r.count()/workers))
	})
}

// checkRange is checkRefs of types from to to-1.
func (r *rawTypes) checkRange(from, to uint32) error {
	for id := from; id < to; id++ {
		t := r.at(id)
		// Each entry of the data: a name (nameAt) and a type (typeAt), at
		// byte offsets within an entry of each bytes; -1 for none.
		var nameAt, typeAt, each int
		switch t.kind {
		case kindPtr, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindVar, kindTypeTag:
			if !r.valid(t.sizeType) {
				return r.badRef(id, t.sizeType)
			}
			continue
		case kindDeclTag:
			if err := r.checkDeclTag(id, t); err != nil {
				return err
			}
			continue
		case kindArray:
			if elem, index := r.u32(t.data), r.u32(t.data[4:]); !r.valid(elem) || !r.valid(index) {
				return r.badRef(id, max(elem, index))
			}
			continue
		case kindStruct, kindUnion:
			nameAt, typeAt, each = 0, 4, 12
		case kindEnum:
			nameAt, typeAt, each = 0, -1, 8
		case kindEnum64:
			nameAt, typeAt, each = 0, -1, 12
		case kindFuncProto:
			if !r.valid(t.sizeType) {
				return r.badRef(id, t.sizeType)
			}
			nameAt, typeAt, each = 0, 4, 8
		case kindDatasec:
			nameAt, typeAt, each = -1, 0, 12
		default:
			continue
		}
		for i := range t.vlen {
			e := t.data[i*each:]
			if nameAt >= 0 {
				if !r.validName(r.u32(e[nameAt:])) {
					return fmt.Errorf("btf type %d: name of entry %d out of bounds", id, i)
				}
			}
			if typeAt >= 0 {
				if ref := r.u32(e[typeAt:]); !r.valid(ref) {
					return r.badRef(id, ref)
				}
			}
		}
	}
	return nil
}

// checkDeclTag checks a decl tag as the decoder does: it tags a variable
// or typedef as a whole, a struct or union as a whole or one of its
// members, or a function or one of its parameters.
func (r *rawTypes) checkDeclTag(id uint32, t rawType) error {
	target := t.sizeType
	if target == 0 || !r.valid(target) {
		return r.badRef(id, target)
	}
	idx := int64(int32(r.u32(t.data)))
	tt := r.at(target)
	components := -1 // how many components it may tag; -1 none
	switch tt.kind {
	case kindVar, kindTypedef:
	case kindStruct, kindUnion:
		components = tt.vlen
	case kindFunc:
		if !r.valid(tt.sizeType) || tt.sizeType == 0 || r.kind(tt.sizeType) != kindFuncProto {
			return fmt.Errorf("btf type %d: decl tag of a function without a prototype", id)
		}
		components = r.at(tt.sizeType).vlen
	default:
		return fmt.Errorf("btf type %d: decl tag of a type of kind %d", id, tt.kind)
	}
	if idx != -1 && (idx < 0 || idx >= int64(components)) {
		return fmt.Errorf("btf type %d: decl tag of component %d of %d", id, idx, max(components, 0))
	}
	return nil
}

func (r *rawTypes) badRef(id, ref uint32) error {
	return fmt.Errorf("btf type %d: refers to type %d of %d", id, ref, r.count())
}
