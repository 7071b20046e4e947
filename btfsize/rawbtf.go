package btfsize

import (
	"encoding/binary"
	"errors"
)

// scanEnums finds enum constants by name in raw BTF without decoding types:
// it walks the types once, comparing each enumerator's name offset with the
// offsets of the wanted names.
func scanEnums(raw []byte, names []string) (map[string]int64, error) {
	r, err := parseRawTypes(raw)
	if err != nil {
		return nil, err
	}
	want := stringOffsets(r.strs, names)
	out := map[string]int64{}
	for id := uint32(1); int(id) <= r.count(); id++ {
		if k := r.kind(id); k == kindEnum || k == kindEnum64 {
			r.scanEnumerators(r.at(id), want, out)
		}
	}
	return out, nil
}

// scanEnumerators adds to out the value of each enumerator of enum t whose
// name offset want holds.
func (r *rawTypes) scanEnumerators(t rawType, want map[uint32]string, out map[string]int64) {
	each := 8
	if t.kind == kindEnum64 {
		each = 12
	}
	for i := range t.vlen {
		e := t.data[i*each:]
		name, ok := want[r.u32(e)]
		if !ok {
			continue
		}
		v := int64(int32(r.u32(e[4:])))
		if t.kind == kindEnum64 {
			v = int64(uint64(r.u32(e[8:]))<<32 | uint64(r.u32(e[4:])))
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
