package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/btfsize/btfsize/btfsize"
)

// Layout writes one type member by member, as pahole prints it, with holes
// and padding as rows, then a byte map of its ringbuf record.
func Layout(w io.Writer, t *btfsize.TypeInfo, hdr uint64) {
	ew := &errWriter{w: w}
	kind := ""
	if !strings.HasPrefix(t.Name, "struct ") && !strings.HasPrefix(t.Name, "union ") {
		kind = "/* typedef */ "
	}
	ew.printf("%s%s {%s/* size: %d, align: %d */\n", kind, t.Name, pad(len(kind)+len(t.Name)+2, 48), t.Size, t.Align)
	for _, m := range t.Members {
		decl := "\t" + memberDecl(&m)
		if m.BitSize > 0 {
			ew.printf("%s%s/* %3d:%2d %4d */\n", decl, pad(tabWidth(decl), 48), m.BitOffset/8, m.BitOffset%8, m.Size)
		} else {
			ew.printf("%s%s/* %6d %4d */\n", decl, pad(tabWidth(decl), 48), m.Offset, m.Size)
		}
		if m.BitHoleAfter > 0 {
			ew.printf("\t/* XXX %s hole */\n", bitsText(m.BitHoleAfter))
		}
		if m.HoleAfter > 0 {
			ew.printf("\t/* XXX %s hole */\n", bytesText(m.HoleAfter))
		}
	}
	if t.BitPadding > 0 {
		ew.printf("\t/* bit_padding: %s */\n", bitsText(t.BitPadding))
	}
	if t.Padding > 0 {
		ew.printf("\t/* padding: %s */\n", bytesText(t.Padding))
	}
	ew.printf("};\n")
	ew.printf("/* holes: %d, sum holes: %s, bit holes: %d, sum bit holes: %d bits, padding: %s */\n",
		t.Holes, bytesText(t.HoleBytes), t.BitHoles, t.BitHoleBits, bytesText(t.Padding))
	ew.printf("/* ringbuf record: %d bytes = header %d + payload %d + headroom %d */\n",
		t.RecordSize, hdr, t.Size, t.Headroom)
	if t.OptimalSize < t.Size {
		ew.printf("/* optimal order: %s -> size %d bytes, record %d bytes */\n",
			strings.Join(t.OptimalOrder, ", "), t.OptimalSize, t.OptimalRecordSize)
	}
	byteMap(ew, t, hdr)
}

func memberDecl(m *btfsize.MemberInfo) string {
	name := m.Name
	attr := ""
	if m.ForcedAlign {
		attr = fmt.Sprintf(" __attribute__((__aligned__(%d)))", m.Align)
	}
	typ := m.Type
	// Arrays are spelled "char [16]": put the name before the dimensions.
	if i := strings.Index(typ, " ["); i >= 0 {
		return strings.Replace(fmt.Sprintf("%s %s%s%s;", typ[:i], name, typ[i+1:], attr), "  ", " ", 1)
	}
	if m.BitSize > 0 {
		return fmt.Sprintf("%s %s:%d%s;", typ, name, m.BitSize, attr)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s%s", typ, name, attr)) + ";"
}

// bitsText is "1 bit" or "N bits".
func bitsText(n uint64) string {
	if n == 1 {
		return "1 bit"
	}
	return fmt.Sprintf("%d bits", n)
}

func tabWidth(s string) int { return len(strings.ReplaceAll(s, "\t", "        ")) }

func pad(n, col int) string {
	if n >= col {
		return " "
	}
	return strings.Repeat(" ", col-n)
}

// Byte-map symbols: members get letters in order.
const (
	mapHeader   = 'H'
	mapHole     = '.'
	mapPadding  = '_'
	mapHeadroom = '+'
	mapWidth    = 64 // cells per line
)

// byteMap draws the record one cell per byte (or per several bytes for large
// records): H header, a letter per member, . hole, _ padding, + headroom.
func byteMap(w *errWriter, t *btfsize.TypeInfo, hdr uint64) {
	total := t.RecordSize
	scale := uint64(1)
	for total/scale > 8*mapWidth {
		scale *= 2
	}
	cells := make([]byte, (total+scale-1)/scale)
	for i := range cells {
		cells[i] = cellAt(t, hdr, uint64(i)*scale, scale)
	}
	unit := "1 byte"
	if scale > 1 {
		unit = fmt.Sprintf("%d bytes", scale)
	}
	w.printf("/* record map, one cell = %s: H header, . hole, _ padding, + headroom */\n", unit)
	for i := 0; i < len(cells); i += mapWidth {
		line := cells[i:min(i+mapWidth, len(cells))]
		var groups []string
		for j := 0; j < len(line); j += 8 {
			groups = append(groups, string(line[j:min(j+8, len(line))]))
		}
		w.printf("  %6d  %s\n", uint64(i)*scale, strings.Join(groups, " "))
	}
	var legend []string
	for i, m := range t.Members {
		if i >= len(letters) {
			legend = append(legend, "… (more members share '*')")
			break
		}
		legend = append(legend, fmt.Sprintf("%c %s", letters[i], orAnon(m.Name)))
	}
	w.printf("  %s\n", strings.Join(legend, ", "))
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGIJKLMNOPQRSTUVWXYZ0123456789"

func orAnon(s string) string {
	if s == "" {
		return "(anonymous)"
	}
	return s
}

// cellAt is the symbol of the cell covering record bytes [off, off+n): the
// first member that overlaps it, else what the gap is.
func cellAt(t *btfsize.TypeInfo, hdr, off, n uint64) byte {
	if off < hdr {
		return mapHeader
	}
	p := off - hdr // offset in the payload
	if p >= t.Size {
		return mapHeadroom
	}
	for i, m := range t.Members {
		start, end := m.Offset, m.Offset+m.Size
		if m.BitSize > 0 {
			start, end = m.BitOffset/8, (m.BitOffset+m.BitSize+7)/8
		}
		if start < p+n && p < end {
			if i >= len(letters) {
				return '*'
			}
			return letters[i]
		}
	}
	if p >= dataEnd(t) {
		return mapPadding
	}
	return mapHole
}

// dataEnd is where the last member ends, in bytes.
func dataEnd(t *btfsize.TypeInfo) uint64 {
	var end uint64
	for _, m := range t.Members {
		e := m.Offset + m.Size
		if m.BitSize > 0 {
			e = (m.BitOffset + m.BitSize + 7) / 8
		}
		end = max(end, e)
	}
	return end
}
