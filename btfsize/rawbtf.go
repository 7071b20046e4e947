package btfsize

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// scanEnums finds enum constants by name in raw BTF without decoding types:
// it walks the type section once, comparing each enumerator's name offset
// with the offsets of the wanted names. The layout is the kernel's
// (include/uapi/linux/btf.h): a header, then btf_type records each followed
// by kind-specific data, then the string section.
func scanEnums(raw []byte, names []string) (map[string]int64, error) {
	bo, err := btfByteOrder(raw)
	if err != nil {
		return nil, err
	}
	if len(raw) < 24 {
		return nil, errors.New("btf header truncated")
	}
	hdrLen := bo.Uint32(raw[4:])
	typeOff, typeLen := bo.Uint32(raw[8:]), bo.Uint32(raw[12:])
	strOff, strLen := bo.Uint32(raw[16:]), bo.Uint32(raw[20:])
	types, ok := sliceAt(raw, uint64(hdrLen)+uint64(typeOff), uint64(typeLen))
	if !ok {
		return nil, errors.New("btf type section out of bounds")
	}
	strs, ok := sliceAt(raw, uint64(hdrLen)+uint64(strOff), uint64(strLen))
	if !ok {
		return nil, errors.New("btf string section out of bounds")
	}
	want := stringOffsets(strs, names)
	out := map[string]int64{}
	for off := 0; off+12 <= len(types); {
		info := bo.Uint32(types[off+4:])
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		off += 12
		extra, each := kindData(kind)
		if extra < 0 {
			return nil, fmt.Errorf("btf: unknown kind %d (a newer btfsize may read it)", kind)
		}
		body := extra + each*vlen
		if off+body > len(types) {
			return nil, errors.New("btf type section truncated")
		}
		if kind == kindEnum || kind == kindEnum64 {
			scanEnumerators(types[off:off+body], bo, kind, vlen, want, out)
		}
		off += body
	}
	return out, nil
}

// BTF kinds whose data scanEnums reads.
const (
	kindEnum   = 6
	kindEnum64 = 19
)

// kindData is the size of the data after a btf_type of kind: a fixed part
// and a part per vlen entry; -1 for an unknown kind.
func kindData(kind uint32) (fixed, each int) {
	switch kind {
	case 1, 14, 17: // INT, VAR, DECL_TAG
		return 4, 0
	case 2, 7, 8, 9, 10, 11, 12, 16, 18: // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
		return 0, 0
	case 3: // ARRAY
		return 12, 0
	case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
		return 0, 12
	case 6, 13: // ENUM, FUNC_PROTO
		return 0, 8
	}
	return -1, 0
}

func scanEnumerators(data []byte, bo binary.ByteOrder, kind uint32, vlen int, want map[uint32]string, out map[string]int64) {
	each := 8
	if kind == kindEnum64 {
		each = 12
	}
	for i := 0; i < vlen; i++ {
		e := data[i*each:]
		name, ok := want[bo.Uint32(e)]
		if !ok {
			continue
		}
		v := int64(int32(bo.Uint32(e[4:])))
		if kind == kindEnum64 {
			v = int64(uint64(bo.Uint32(e[8:]))<<32 | uint64(bo.Uint32(e[4:])))
		}
		out[name] = v
	}
}

// stringOffsets finds the offsets of names in a string section.
func stringOffsets(strs []byte, names []string) map[uint32]string {
	out := map[uint32]string{}
	start := 0
	for i, c := range strs {
		if c != 0 {
			continue
		}
		s := string(strs[start:i])
		for _, n := range names {
			if s == n {
				out[uint32(start)] = n
			}
		}
		start = i + 1
	}
	return out
}

func sliceAt(b []byte, off, n uint64) ([]byte, bool) {
	if off > uint64(len(b)) || n > uint64(len(b))-off {
		return nil, false
	}
	return b[off : off+n], true
}

func btfByteOrder(raw []byte) (binary.ByteOrder, error) {
	switch {
	case len(raw) < 2:
		return nil, errors.New("btf truncated")
	case raw[0] == 0x9f && raw[1] == 0xeb:
		return binary.LittleEndian, nil
	case raw[0] == 0xeb && raw[1] == 0x9f:
		return binary.BigEndian, nil
	}
	return nil, errors.New("no btf magic")
}
