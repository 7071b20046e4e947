package btfsize

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// rawTypes indexes raw BTF (include/uapi/linux/btf.h) without decoding it:
// a header, btf_type records each followed by kind-specific data, then the
// string section. It is what lets --all measure the kernel's 10,000 structs
// without building a Go value for each of its 100,000 types.
type rawTypes struct {
	bo    binary.ByteOrder
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
	if bytes.ContainsFunc(trailer, func(r rune) bool { return r != 0 }) {
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
	r := &rawTypes{bo: bo, types: types, strs: strs}
	r.offs = make([]uint32, 0, len(types)/32)
	r.infos = make([]uint32, 0, len(types)/32)
	for off := 0; off < len(types); {
		if len(types)-off < 12 {
			return nil, errors.New("btf type section truncated")
		}
		info := bo.Uint32(types[off+4:])
		fixed, each := kindData(info >> 24 & 0x1f)
		if fixed < 0 {
			return nil, fmt.Errorf("btf: unknown kind %d (a newer btfsize may read it)", info>>24&0x1f)
		}
		if _, ok := r.str(bo.Uint32(types[off:])); !ok {
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

// str returns the string at off, which must start a string of the section.
func (r *rawTypes) str(off uint32) ([]byte, bool) {
	if off == 0 {
		return nil, true
	}
	if uint64(off) >= uint64(len(r.strs)) || r.strs[off-1] != 0 {
		return nil, false
	}
	s := r.strs[off:]
	return s[:bytes.IndexByte(s, 0)], true
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

// kind returns the kind of type id (1 to count).
func (r *rawTypes) kind(id uint32) uint32 { return r.infos[id-1] >> 24 & 0x1f }

// at returns type id (1 to count); the index is valid by construction.
func (r *rawTypes) at(id uint32) rawType {
	b := r.types[r.offs[id-1]:]
	info := r.infos[id-1]
	t := rawType{
		nameOff:  r.bo.Uint32(b),
		kind:     info >> 24 & 0x1f,
		vlen:     int(info & 0xffff),
		kflag:    info>>31 == 1,
		sizeType: r.bo.Uint32(b[8:]),
	}
	fixed, each := kindData(t.kind)
	t.data = b[12 : 12+fixed+each*t.vlen]
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
		refs := func(ids ...uint32) error {
			for _, ref := range ids {
				if !r.valid(ref) {
					return fmt.Errorf("btf type %d: refers to type %d of %d", id, ref, r.count())
				}
			}
			return nil
		}
		name := func(off uint32) error {
			if _, ok := r.str(off); !ok {
				return fmt.Errorf("btf type %d: name out of bounds", id)
			}
			return nil
		}
		var err error
		switch t.kind {
		case kindPtr, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindVar, kindDeclTag, kindTypeTag:
			err = refs(t.sizeType)
		case kindArray:
			err = refs(r.bo.Uint32(t.data), r.bo.Uint32(t.data[4:]))
		case kindStruct, kindUnion:
			for i := 0; i < t.vlen && err == nil; i++ {
				m := t.data[i*12:]
				err = errors.Join(name(r.bo.Uint32(m)), refs(r.bo.Uint32(m[4:])))
			}
		case kindEnum, kindEnum64:
			each := len(t.data) / max(t.vlen, 1)
			for i := 0; i < t.vlen && err == nil; i++ {
				err = name(r.bo.Uint32(t.data[i*each:]))
			}
		case kindFuncProto:
			err = refs(t.sizeType)
			for i := 0; i < t.vlen && err == nil; i++ {
				p := t.data[i*8:]
				err = errors.Join(name(r.bo.Uint32(p)), refs(r.bo.Uint32(p[4:])))
			}
		case kindDatasec:
			for i := 0; i < t.vlen && err == nil; i++ {
				err = refs(r.bo.Uint32(t.data[i*12:]))
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
