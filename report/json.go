package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/btfsize/btfsize/btfsize"
)

// JSON writes r as the JSON document described in DESIGN.md: snake_case
// keys, [] for empty lists, deterministic order. Each site, type and
// warning is one line, so the document streams without being built whole
// (the kernel's BTF makes a 20 MB report) and reads well in a diff.
func JSON(w io.Writer, r *btfsize.Report) error {
	r.Normalize()
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"header_size\": %d,\n", r.Version, r.HeaderSize)
	if err := jsonList(bw, "sites", r.Sites); err != nil {
		return err
	}
	bw.WriteString(",\n")
	jsonTypes(bw, r.Types)
	bw.WriteString(",\n")
	if err := jsonList(bw, "warnings", r.Warnings); err != nil {
		return err
	}
	if r.Target != nil {
		target, err := json.MarshalIndent(r.Target, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, ",\n  \"target\": %s", target)
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonList writes "name": [ … ] with one element per line, each encoded by
// encoding/json without HTML escapes.
func jsonList[T any](w *bufio.Writer, name string, items []T) error {
	jsonListStart(w, name)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range items {
		buf.Reset()
		if err := enc.Encode(&items[i]); err != nil {
			return err
		}
		w.WriteString(jsonListSep(i))
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	jsonListEnd(w, len(items))
	return nil
}

// jsonTypes is jsonList for the types, the bulk of a kernel report, with
// the hand-written encoder: the same bytes, without reflection, encoded on
// every CPU.
func jsonTypes(w *bufio.Writer, items []btfsize.TypeInfo) {
	jsonListStart(w, "types")
	writeParallel(w, len(items), func(b []byte, i int) []byte {
		return appendTypeInfo(append(b, jsonListSep(i)...), &items[i])
	})
	jsonListEnd(w, len(items))
}

// jsonListStart writes `  "name": [`; name needs no escaping.
func jsonListStart(w *bufio.Writer, name string) {
	w.WriteString(`  "`)
	w.WriteString(name)
	w.WriteString(`": [`)
}

// jsonListSep starts the line of element i.
func jsonListSep(i int) string {
	if i > 0 {
		return ",\n    "
	}
	return "\n    "
}

// jsonListEnd closes a list of n elements.
func jsonListEnd(w *bufio.Writer, n int) {
	if n > 0 {
		w.WriteString("\n  ")
	}
	w.WriteString("]")
}

// appendTypeInfo appends t as encoding/json encodes it with SetEscapeHTML(false),
// without the Encoder's trailing newline. The keys and their order follow
// the json tags of btfsize.TypeInfo: a field added there must be added here,
// which TestAppendTypeInfo* catch.
func appendTypeInfo(b []byte, t *btfsize.TypeInfo) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, t.Name)
	b = append(b, `,"object":`...)
	b = appendJSONString(b, t.Object)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, t.Source)
	b = append(b, `,"size":`...)
	b = strconv.AppendUint(b, t.Size, 10)
	b = append(b, `,"align":`...)
	b = strconv.AppendUint(b, t.Align, 10)
	b = append(b, `,"record_size":`...)
	b = strconv.AppendUint(b, t.RecordSize, 10)
	b = append(b, `,"headroom":`...)
	b = strconv.AppendUint(b, t.Headroom, 10)
	b = append(b, `,"perf_record_size":`...)
	b = strconv.AppendUint(b, t.PerfRecordSize, 10)
	b = append(b, `,"holes":`...)
	b = strconv.AppendInt(b, int64(t.Holes), 10)
	b = append(b, `,"hole_bytes":`...)
	b = strconv.AppendUint(b, t.HoleBytes, 10)
	b = append(b, `,"bit_holes":`...)
	b = strconv.AppendInt(b, int64(t.BitHoles), 10)
	b = append(b, `,"bit_hole_bits":`...)
	b = strconv.AppendUint(b, t.BitHoleBits, 10)
	b = append(b, `,"bit_padding":`...)
	b = strconv.AppendUint(b, t.BitPadding, 10)
	b = append(b, `,"padding":`...)
	b = strconv.AppendUint(b, t.Padding, 10)
	b = append(b, `,"packed":`...)
	b = strconv.AppendBool(b, t.Packed)
	b = append(b, `,"union":`...)
	b = strconv.AppendBool(b, t.Union)
	b = append(b, `,"optimal_size":`...)
	b = strconv.AppendUint(b, t.OptimalSize, 10)
	b = append(b, `,"optimal_record_size":`...)
	b = strconv.AppendUint(b, t.OptimalRecordSize, 10)
	b = append(b, `,"optimal_order":`...)
	if t.OptimalOrder == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range t.OptimalOrder {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"members":`...)
	if t.Members == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMemberInfo(b, &t.Members[i])
		}
		b = append(b, ']')
	}
	if t.File != "" {
		b = append(b, `,"file":`...)
		b = appendJSONString(b, t.File)
	}
	if t.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(t.Line), 10)
	}
	return append(b, '}')
}

// appendMemberInfo appends m as encoding/json encodes it; see appendTypeInfo.
func appendMemberInfo(b []byte, m *btfsize.MemberInfo) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, m.Name)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, m.Type)
	b = append(b, `,"offset":`...)
	b = strconv.AppendUint(b, m.Offset, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendUint(b, m.Size, 10)
	b = append(b, `,"align":`...)
	b = strconv.AppendUint(b, m.Align, 10)
	b = append(b, `,"forced_align":`...)
	b = strconv.AppendBool(b, m.ForcedAlign)
	b = append(b, `,"bit_offset":`...)
	b = strconv.AppendUint(b, m.BitOffset, 10)
	b = append(b, `,"bit_size":`...)
	b = strconv.AppendUint(b, m.BitSize, 10)
	b = append(b, `,"hole_after":`...)
	b = strconv.AppendUint(b, m.HoleAfter, 10)
	b = append(b, `,"bit_hole_after":`...)
	b = strconv.AppendUint(b, m.BitHoleAfter, 10)
	return append(b, '}')
}

const jsonHex = "0123456789abcdef"

// jsonSafe holds the bytes appendJSONString copies as they are: ASCII but
// for control characters, `"` and `\`. Other bytes start UTF-8 sequences.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes it with
// SetEscapeHTML(false): `"` and `\` escaped; control characters as \b \f \n
// \r \t or \u00XX; each byte of invalid UTF-8 as \ufffd; U+2028 and U+2029
// as \u2028 and \u2029; everything else, <>& and DEL included, as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
