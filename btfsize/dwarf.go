package btfsize

import (
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// DWARF holds the debug information of one ELF file, converted to btf types.
//
// Event structs that a BPF program only keeps on its stack never make it into
// .BTF, because clang emits BTF just for types reachable from globals and
// function signatures. DWARF describes every type, so it is the only place
// their layout can be read from.
type DWARF struct {
	data    *dwarf.Data
	order   binary.ByteOrder
	machine elf.Machine

	// debug/dwarf does not read location lists, so keep the raw sections:
	// .debug_loclists for DWARF 5 units and .debug_loc for older ones.
	loclists []byte
	loc      []byte
	// line is checked before debug/dwarf reads it; see lineHeaderSane.
	line []byte

	all         []*dwEntry
	entries     map[dwarf.Offset]*dwEntry
	subprograms []*dwEntry
	byFunc      map[string][]*dwEntry // subprograms by name; see subprogramsNamed

	types   map[dwarf.Offset]btf.Type
	busy    map[dwarf.Offset]bool
	pending []func() error
	void    *btf.Void
	// index stands in for the index type of arrays whose subrange names
	// none, since btf.Array needs one.
	index *btf.Int

	align       map[btf.Type]uint32
	memberAlign map[btf.Type]map[int]uint32
	decls       map[btf.Type]declPos

	named  []btf.Type
	byName map[string][]btf.Type

	// frames holds the stack depth the code of each BPF function touches,
	// by symbol name. See frameBase for why it is needed.
	frames map[string][]codeFrame
}

type declPos struct {
	file string
	line int
}

// dwEntry is a debugging information entry with its children, so that the
// tree can be walked more than once.
type dwEntry struct {
	*dwarf.Entry
	unit     *dwUnit
	children []*dwEntry
}

func (e *dwEntry) name() string {
	s, _ := e.Val(dwarf.AttrName).(string)
	return s
}

// dwUnit is what entries need to know about their compilation unit.
type dwUnit struct {
	version      int
	dwarf64      bool
	addrSize     int
	loclistsBase uint64
	files        []*dwarf.LineFile
}

// loadDWARF reads the DWARF of f. It returns (nil, nil) when f has no .debug_info.
func loadDWARF(f *elf.File) (*DWARF, error) {
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return nil, nil
	}

	d, err := newDWARF(f)
	if err != nil {
		return nil, fmt.Errorf("dwarf: %w", err)
	}
	return d, nil
}

func newDWARF(f *elf.File) (*DWARF, error) {
	data, err := openDWARF(f)
	if err != nil {
		return nil, err
	}

	d := &DWARF{
		data:        data,
		order:       f.ByteOrder,
		machine:     f.Machine,
		entries:     make(map[dwarf.Offset]*dwEntry),
		types:       make(map[dwarf.Offset]btf.Type),
		busy:        make(map[dwarf.Offset]bool),
		void:        &btf.Void{},
		index:       &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4},
		align:       make(map[btf.Type]uint32),
		memberAlign: make(map[btf.Type]map[int]uint32),
		decls:       make(map[btf.Type]declPos),
		byName:      make(map[string][]btf.Type),
	}

	if d.loclists, err = debugSection(f, ".debug_loclists"); err != nil {
		return nil, err
	}
	if d.loc, err = debugSection(f, ".debug_loc"); err != nil {
		return nil, err
	}
	if d.line, err = debugSection(f, ".debug_line"); err != nil {
		return nil, err
	}
	info, err := debugSection(f, ".debug_info")
	if err != nil {
		return nil, err
	}

	if err := d.readEntries(unitHeaders(info, f.ByteOrder)); err != nil {
		return nil, err
	}
	if err := d.convertAll(); err != nil {
		return nil, err
	}
	d.indexNamed()

	if f.Machine == elf.EM_BPF {
		d.frames = codeFrames(f)
	}
	return d, nil
}

// openDWARF builds the dwarf.Data of f.
//
// (*elf.File).DWARF applies relocations for the machines Go knows and fails
// on EM_BPF objects with "applyRelocations: not implemented", so BPF objects
// are read section by section instead. Other machines go through the
// standard library first and fall back to the raw sections.
func openDWARF(f *elf.File) (*dwarf.Data, error) {
	if f.Machine == elf.EM_BPF {
		return rawDWARF(f)
	}

	data, err := f.DWARF()
	if err != nil {
		if hasDebugRELA(f) {
			// RELA keeps addends out of the section, so the raw bytes
			// of every string and section offset are zero: reading
			// them would produce plausible garbage.
			return nil, err
		}
		return rawDWARF(f)
	}

	if f.Type != elf.ET_REL {
		// Linked files need no relocations, so the raw section is what
		// f.DWARF used; see strOffsetsWorkaround.
		b, err := debugSection(f, ".debug_str_offsets")
		if err != nil {
			return nil, err
		}
		if b != nil {
			if err := data.AddSection(".debug_str_offsets", strOffsetsWorkaround(b, f.ByteOrder)); err != nil {
				return nil, fmt.Errorf("section .debug_str_offsets: %w", err)
			}
		}
	}
	return data, nil
}

// dwarfSections are the arguments of dwarf.New, in order.
var dwarfSections = [...]string{
	".debug_abbrev",
	".debug_aranges",
	".debug_frame",
	".debug_info",
	".debug_line",
	".debug_pubnames",
	".debug_ranges",
	".debug_str",
}

// dwarf5Sections came with DWARF 5 and are given to dwarf.Data with
// AddSection. It ignores .debug_loclists today; passing it costs nothing and
// picks up support should it come.
var dwarf5Sections = [...]string{
	".debug_addr",
	".debug_line_str",
	".debug_str_offsets",
	".debug_rnglists",
	".debug_loclists",
}

func rawDWARF(f *elf.File) (*dwarf.Data, error) {
	var secs [len(dwarfSections)][]byte
	for i, name := range dwarfSections {
		b, err := debugSection(f, name)
		if err != nil {
			return nil, err
		}
		secs[i] = b
	}

	data, err := dwarf.New(secs[0], secs[1], secs[2], secs[3], secs[4], secs[5], secs[6], secs[7])
	if err != nil {
		return nil, err
	}

	for _, name := range dwarf5Sections {
		b, err := debugSection(f, name)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		if name == ".debug_str_offsets" {
			b = strOffsetsWorkaround(b, f.ByteOrder)
		}
		if err := data.AddSection(name, b); err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
	}
	return data, nil
}

// strOffsetsWorkaround clears the header of the first contribution to
// .debug_str_offsets.
//
// Before debug/dwarf knows a unit's DW_AT_str_offsets_base, it decodes the
// unit entry once to find it, resolving the entry's DW_FORM_strx attributes
// against base 0. That reads the contribution header (unit length, version)
// as string offsets, which point past .debug_str in big endian files and
// fail the whole unit. Nothing else reads the header, and zeroes are valid
// string offsets.
func strOffsetsWorkaround(b []byte, bo binary.ByteOrder) []byte {
	switch {
	case len(b) >= 8 && bo.Uint32(b) != 0xffffffff && bo.Uint16(b[4:]) == 5:
		clear(b[:8])
	case len(b) >= 16 && bo.Uint32(b) == 0xffffffff && bo.Uint16(b[12:]) == 5:
		clear(b[:16])
	}
	return b
}

// debugSection returns the contents of the named section, decompressed, or
// nil if f has no such section.
func debugSection(f *elf.File, name string) ([]byte, error) {
	for i, s := range f.Sections {
		if s.Name != name || s.Type == elf.SHT_NOBITS {
			continue
		}

		// Data decompresses SHF_COMPRESSED sections.
		b, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
		if f.Machine == elf.EM_BPF {
			if err := relocateBPF(f, i, b); err != nil {
				return nil, fmt.Errorf("section %s: %w", name, err)
			}
		}
		return b, nil
	}
	return nil, nil
}

// BPF relocation types, from the kernel's Documentation/bpf/llvm_reloc.rst.
// debug/elf has no constants for them.
const (
	rBPF64Abs64    = 2
	rBPF64Abs32    = 3
	rBPF64NoDyld32 = 4
)

// relocateBPF applies the relocations that target section shndx to its
// contents b.
//
// BPF uses REL relocations, which store the addend in the relocated field
// itself. In an unlinked object almost every relocation in the debug
// sections is against a section symbol (.debug_abbrev, .debug_str,
// .debug_line, .debug_line_str, the code section), and a section symbol's
// value is 0, so S+A is exactly the addend already in place: the raw bytes
// are the right section-relative offsets, in either byte order. What remains
// are addresses in .debug_addr naming a global's own symbol, such as a map
// in .maps; adding the symbol's value makes them section-relative like the
// rest.
func relocateBPF(f *elf.File, shndx int, b []byte) error {
	var syms []elf.Symbol
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_REL || int(rs.Info) != shndx {
			continue
		}
		if f.Class != elf.ELFCLASS64 {
			return fmt.Errorf("relocations: unsupported class %s", f.Class)
		}
		if syms == nil {
			var err error
			if syms, err = f.Symbols(); err != nil {
				return fmt.Errorf("relocations: %w", err)
			}
		}

		rels, err := rs.Data()
		if err != nil {
			return fmt.Errorf("relocations: %w", err)
		}
		if err := applyBPFRelocations(f.ByteOrder, syms, rels, b); err != nil {
			return fmt.Errorf("section %s: %w", rs.Name, err)
		}
	}
	return nil
}

func applyBPFRelocations(bo binary.ByteOrder, syms []elf.Symbol, rels, b []byte) error {
	const relSize = 16 // sizeof(Elf64_Rel)
	for ; len(rels) >= relSize; rels = rels[relSize:] {
		off := bo.Uint64(rels[0:])
		info := bo.Uint64(rels[8:])

		// Symbols omits the null symbol, so index i is syms[i-1].
		idx := elf.R_SYM64(info)
		if idx == 0 || uint64(idx) > uint64(len(syms)) {
			return fmt.Errorf("relocation at %#x: invalid symbol %d", off, idx)
		}
		var size uint64
		switch elf.R_TYPE64(info) {
		case rBPF64Abs64:
			size = 8
		case rBPF64Abs32, rBPF64NoDyld32:
			size = 4
		default:
			continue
		}
		if off > uint64(len(b)) || uint64(len(b))-off < size {
			return fmt.Errorf("relocation at %#x: out of bounds", off)
		}

		sym := syms[idx-1]
		if sym.Value == 0 {
			continue
		}

		if size == 8 {
			bo.PutUint64(b[off:], bo.Uint64(b[off:])+sym.Value)
		} else {
			bo.PutUint32(b[off:], bo.Uint32(b[off:])+uint32(sym.Value))
		}
	}
	return nil
}

func hasDebugRELA(f *elf.File) bool {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA || int(s.Info) >= len(f.Sections) {
			continue
		}
		if strings.HasPrefix(f.Sections[s.Info].Name, ".debug_") {
			return true
		}
	}
	return false
}

type unitHeader struct {
	start, end dwarf.Offset
	version    int
	dwarf64    bool
}

// unitHeaders reads the unit headers of .debug_info. debug/dwarf keeps the
// version of each unit to itself, but location list attributes mean
// different sections depending on it.
func unitHeaders(info []byte, bo binary.ByteOrder) []unitHeader {
	var hdrs []unitHeader
	for off := uint64(0); off+6 <= uint64(len(info)); {
		length, hdr, dwarf64 := uint64(bo.Uint32(info[off:])), uint64(4), false
		if length == 0xffffffff {
			if off+14 > uint64(len(info)) {
				break
			}
			length, hdr, dwarf64 = bo.Uint64(info[off+4:]), 12, true
		}

		rest := uint64(len(info)) - off - hdr
		if length < 2 || length > rest {
			break
		}
		hdrs = append(hdrs, unitHeader{
			start:   dwarf.Offset(off),
			end:     dwarf.Offset(off + hdr + length),
			version: int(bo.Uint16(info[off+hdr:])),
			dwarf64: dwarf64,
		})
		off += hdr + length
	}
	return hdrs
}

// maxPadding is how many null entries may follow each other between units.
const maxPadding = 4096

// readEntries reads all entries into a tree.
func (d *DWARF) readEntries(hdrs []unitHeader) error {
	r := d.data.Reader()
	var (
		parents []*dwEntry
		u       = &dwUnit{}
		padding int
	)
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		if e.Tag == 0 {
			if len(parents) > 0 {
				parents = parents[:len(parents)-1]
				continue
			}
			// debug/dwarf returns null entries without advancing
			// when a unit ends in an unterminated LEB128. Null
			// entries outside of any parent are padding, and
			// producers pad by a few bytes at most.
			if padding++; padding > maxPadding {
				return errors.New("entries don't advance: truncated LEB128")
			}
			continue
		}
		padding = 0

		n := &dwEntry{Entry: e}
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit, dwarf.TagTypeUnit:
			parents = parents[:0]
			u = d.newUnit(e, r.AddressSize(), hdrs)
		default:
			if len(parents) > 0 {
				p := parents[len(parents)-1]
				p.children = append(p.children, n)
			}
		}
		n.unit = u

		d.all = append(d.all, n)
		d.entries[e.Offset] = n
		if e.Tag == dwarf.TagSubprogram {
			d.subprograms = append(d.subprograms, n)
		}
		if e.Children {
			parents = append(parents, n)
		}
	}
}

func (d *DWARF) newUnit(cu *dwarf.Entry, addrSize int, hdrs []unitHeader) *dwUnit {
	u := &dwUnit{addrSize: addrSize}
	for _, h := range hdrs {
		if cu.Offset >= h.start && cu.Offset < h.end {
			u.version, u.dwarf64 = h.version, h.dwarf64
			break
		}
	}

	// DWARF 5 gives no default for the base; the header of a first
	// contribution is the only sensible guess.
	u.loclistsBase = 12
	if u.dwarf64 {
		u.loclistsBase = 20
	}
	if base, ok := cu.Val(dwarf.AttrLoclistsBase).(int64); ok && base >= 0 {
		u.loclistsBase = uint64(base)
	}

	// The line table only adds declaration files; a broken one shouldn't
	// cost the layouts.
	stmt, ok := cu.Val(dwarf.AttrStmtList).(int64)
	if !ok || !lineHeaderSane(d.line, stmt, d.order) {
		return u
	}
	if lr, err := d.data.LineReader(cu); err == nil && lr != nil {
		u.files = lr.Files()
	}
	return u
}

// lineHeaderSane tells whether the line table header at off is safe to give
// to debug/dwarf, which allocates room for as many directories and files as
// a DWARF 5 header claims before reading any of them. It checks that the
// entries fit in the header.
func lineHeaderSane(line []byte, off int64, bo binary.ByteOrder) bool {
	c := dwCursor{b: line, order: bo}
	if off < 0 || !c.seek(uint64(off), 0, 0) {
		return false
	}

	length, offSize := uint64(c.u32()), uint64(4)
	if length == 0xffffffff {
		length, offSize = c.u64(), 8
	}
	c.b = c.bytes(length)
	if version := c.u16(); version < 5 {
		// Older headers list files one by one.
		return c.err == nil
	}

	c.bytes(2) // address_size, segment_selector_size
	if offSize == 8 {
		c.b = c.bytes(c.u64())
	} else {
		c.b = c.bytes(uint64(c.u32()))
	}
	c.bytes(5) // minimum_instruction_length to line_range
	if base := c.u8(); base > 0 {
		c.bytes(uint64(base) - 1) // standard_opcode_lengths
	}

	// Directories, then file names.
	for range 2 {
		forms := make([]uint64, c.u8())
		for i := range forms {
			c.uleb() // content type
			forms[i] = c.uleb()
		}
		count := c.uleb()
		if c.err != nil || count > uint64(len(c.b)) {
			return false
		}
		for range count {
			for _, form := range forms {
				if !skipForm(&c, form, offSize) {
					return false
				}
			}
		}
	}
	return c.err == nil
}

// DW_FORM_* that line table headers use, from the DWARF 5 standard, section 7.5.6.
const (
	formBlock2   = 0x03
	formBlock4   = 0x04
	formData2    = 0x05
	formData4    = 0x06
	formData8    = 0x07
	formString   = 0x08
	formBlock    = 0x09
	formBlock1   = 0x0a
	formData1    = 0x0b
	formSdata    = 0x0d
	formStrp     = 0x0e
	formUdata    = 0x0f
	formSecOff   = 0x17
	formStrx     = 0x1a
	formData16   = 0x1e
	formLineStrp = 0x1f
	formStrx1    = 0x25
	formStrx2    = 0x26
	formStrx3    = 0x27
	formStrx4    = 0x28
)

// skipForm moves c past a value of form.
func skipForm(c *dwCursor, form, offSize uint64) bool {
	switch form {
	case formString:
		n := slices.Index(c.b, 0)
		if n < 0 {
			return false
		}
		c.bytes(uint64(n) + 1)
	case formStrp, formLineStrp, formSecOff:
		c.bytes(offSize)
	case formUdata, formStrx:
		c.uleb()
	case formSdata:
		c.sleb()
	case formData1, formStrx1:
		c.bytes(1)
	case formData2, formStrx2:
		c.bytes(2)
	case formStrx3:
		c.bytes(3)
	case formData4, formStrx4:
		c.bytes(4)
	case formData8:
		c.bytes(8)
	case formData16:
		c.bytes(16)
	case formBlock:
		c.bytes(c.uleb())
	case formBlock1:
		c.bytes(uint64(c.u8()))
	case formBlock2:
		c.bytes(uint64(c.u16()))
	case formBlock4:
		c.bytes(uint64(c.u32()))
	default:
		return false
	}
	return c.err == nil
}

// convertAll converts every type entry and every type referenced by an
// entry, so that afterwards looking up types never fails.
func (d *DWARF) convertAll() error {
	for _, e := range d.all {
		if isTypeTag(e.Tag) {
			if _, err := d.typeAt(e.Offset); err != nil {
				return err
			}
		}
		if off, ok := e.Val(dwarf.AttrType).(dwarf.Offset); ok {
			if _, err := d.typeAt(off); err != nil {
				return err
			}
		}
	}

	// Pointer targets are resolved last, which keeps recursion shallow and
	// lets self-referential structs terminate.
	for len(d.pending) > 0 {
		fn := d.pending[0]
		d.pending = d.pending[1:]
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

func isTypeTag(tag dwarf.Tag) bool {
	switch tag {
	case dwarf.TagBaseType, dwarf.TagStructType, dwarf.TagClassType, dwarf.TagUnionType,
		dwarf.TagEnumerationType, dwarf.TagTypedef, dwarf.TagPointerType,
		dwarf.TagReferenceType, dwarf.TagRvalueReferenceType, dwarf.TagArrayType,
		dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType,
		dwarf.TagAtomicType, dwarf.TagSubroutineType, dwarf.TagUnspecifiedType:
		return true
	}
	return false
}

// typeAt returns the btf type of the entry at off, converting it on first use.
func (d *DWARF) typeAt(off dwarf.Offset) (btf.Type, error) {
	if t, ok := d.types[off]; ok {
		return t, nil
	}

	e := d.entries[off]
	if e == nil {
		return nil, fmt.Errorf("type reference %#x: no such entry", off)
	}

	// Types that may be part of a cycle register themselves before
	// converting what they refer to. Anything else that comes back here
	// is a cycle C cannot express.
	if d.busy[off] {
		return nil, fmt.Errorf("%s at %#x: refers to itself", e.Tag, off)
	}
	d.busy[off] = true
	defer delete(d.busy, off)

	t, err := d.convert(e)
	if err != nil {
		return nil, fmt.Errorf("%s %q at %#x: %w", e.Tag, e.name(), off, err)
	}
	d.types[off] = t
	return t, nil
}

// typeOf returns the type e refers to with DW_AT_type. None means void.
func (d *DWARF) typeOf(e *dwEntry) (btf.Type, error) {
	f := e.AttrField(dwarf.AttrType)
	if f == nil {
		return d.void, nil
	}
	off, ok := f.Val.(dwarf.Offset)
	if !ok {
		return nil, fmt.Errorf("type reference of class %s: not supported", f.Class)
	}
	return d.typeAt(off)
}

func (d *DWARF) convert(e *dwEntry) (btf.Type, error) {
	switch e.Tag {
	case dwarf.TagBaseType:
		return d.baseType(e)

	case dwarf.TagStructType, dwarf.TagClassType, dwarf.TagUnionType:
		return d.composite(e)

	case dwarf.TagEnumerationType:
		return d.enum(e)

	case dwarf.TagTypedef:
		td := &btf.Typedef{Name: e.name()}
		d.remember(e, td)
		var err error
		td.Type, err = d.typeOf(e)
		return td, err

	case dwarf.TagPointerType, dwarf.TagReferenceType, dwarf.TagRvalueReferenceType:
		ptr := &btf.Pointer{Target: d.void}
		d.types[e.Offset] = ptr
		d.pending = append(d.pending, func() (err error) {
			ptr.Target, err = d.typeOf(e)
			return err
		})
		return ptr, nil

	case dwarf.TagArrayType:
		return d.array(e)

	case dwarf.TagConstType:
		c := &btf.Const{}
		return d.qualifier(e, c, &c.Type)

	case dwarf.TagVolatileType:
		v := &btf.Volatile{}
		return d.qualifier(e, v, &v.Type)

	case dwarf.TagRestrictType:
		r := &btf.Restrict{}
		return d.qualifier(e, r, &r.Type)

	case dwarf.TagAtomicType:
		// BTF has no _Atomic, and it doesn't change the layout.
		return d.typeOf(e)

	case dwarf.TagSubroutineType:
		return d.funcProto(e)

	default:
		// DW_TAG_unspecified_type and whatever else C can't spell.
		return d.void, nil
	}
}

// remember registers t as the conversion of e, along with what BTF can't
// hold: explicit alignment and the declaration.
// qualifier records q, the const, volatile or restrict of entry e, before
// reading the type it qualifies into *inner, so that cycles through it end.
func (d *DWARF) qualifier(e *dwEntry, q btf.Type, inner *btf.Type) (btf.Type, error) {
	d.types[e.Offset] = q
	var err error
	*inner, err = d.typeOf(e)
	return q, err
}

func (d *DWARF) remember(e *dwEntry, t btf.Type) {
	d.types[e.Offset] = t
	if a := dwAlignment(e); a > 0 {
		d.align[t] = a
	}

	line, _ := e.Val(dwarf.AttrDeclLine).(int64)
	file, _ := e.Val(dwarf.AttrDeclFile).(int64)
	if files := e.unit.files; line > 0 && file >= 0 && file < int64(len(files)) && files[file] != nil {
		d.decls[t] = declPos{files[file].Name, int(line)}
	}
}

func dwAlignment(e *dwEntry) uint32 {
	a, _ := e.Val(dwarf.AttrAlignment).(int64)
	if a <= 0 || a > math.MaxUint32 {
		return 0
	}
	return uint32(a)
}

func dwIsDecl(e *dwEntry) bool {
	v, _ := e.Val(dwarf.AttrDeclaration).(bool)
	return v
}

// DW_ATE_* from the DWARF 5 standard, section 7.8. debug/dwarf doesn't
// export them.
const (
	ateBoolean       = 0x02
	ateComplexFloat  = 0x03
	ateFloat         = 0x04
	ateSigned        = 0x05
	ateSignedChar    = 0x06
	ateImaginaryFlt  = 0x09
	ateDecimalFloat  = 0x0f
	maxBaseTypeBytes = 16
)

func (d *DWARF) baseType(e *dwEntry) (btf.Type, error) {
	size, _ := e.Val(dwarf.AttrByteSize).(int64)
	if size < 0 || size > maxBaseTypeBytes {
		return nil, fmt.Errorf("size %d: out of range", size)
	}

	var t btf.Type
	enc, _ := e.Val(dwarf.AttrEncoding).(int64)
	switch enc {
	case ateFloat, ateComplexFloat, ateImaginaryFlt, ateDecimalFloat:
		t = &btf.Float{Name: e.name(), Size: uint32(size)}
	case ateBoolean:
		t = &btf.Int{Name: e.name(), Size: uint32(size), Encoding: btf.Bool}
	case ateSigned:
		t = &btf.Int{Name: e.name(), Size: uint32(size), Encoding: btf.Signed}
	case ateSignedChar:
		t = &btf.Int{Name: e.name(), Size: uint32(size), Encoding: btf.Char}
	default:
		t = &btf.Int{Name: e.name(), Size: uint32(size)}
	}
	d.remember(e, t)
	return t, nil
}

func dwByteSize(e *dwEntry) (uint32, error) {
	size, _ := e.Val(dwarf.AttrByteSize).(int64)
	if size < 0 || size > math.MaxUint32 {
		return 0, fmt.Errorf("size %d: out of range", size)
	}
	return uint32(size), nil
}

func (d *DWARF) composite(e *dwEntry) (btf.Type, error) {
	if dwIsDecl(e) {
		fwd := &btf.Fwd{Name: e.name(), Kind: btf.FwdStruct}
		if e.Tag == dwarf.TagUnionType {
			fwd.Kind = btf.FwdUnion
		}
		d.remember(e, fwd)
		return fwd, nil
	}

	size, err := dwByteSize(e)
	if err != nil {
		return nil, err
	}

	if e.Tag == dwarf.TagUnionType {
		u := &btf.Union{Name: e.name(), Size: size}
		d.remember(e, u)
		u.Members, err = d.members(e, u)
		return u, err
	}

	s := &btf.Struct{Name: e.name(), Size: size}
	d.remember(e, s)
	s.Members, err = d.members(e, s)
	return s, err
}

func (d *DWARF) members(e *dwEntry, owner btf.Type) ([]btf.Member, error) {
	var ms []btf.Member
	for _, c := range e.children {
		if c.Tag != dwarf.TagMember && c.Tag != dwarf.TagInheritance {
			continue
		}
		if dwIsDecl(c) || c.Val(dwarf.AttrExternal) != nil {
			// C++ static data members take no room in the object.
			continue
		}

		m, err := d.member(c)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", c.name(), err)
		}
		if a := dwAlignment(c); a > 0 {
			if d.memberAlign[owner] == nil {
				d.memberAlign[owner] = make(map[int]uint32)
			}
			d.memberAlign[owner][len(ms)] = a
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func (d *DWARF) member(c *dwEntry) (btf.Member, error) {
	typ, err := d.typeOf(c)
	if err != nil {
		return btf.Member{}, err
	}

	bitSize, _ := c.Val(dwarf.AttrBitSize).(int64)
	if bitSize < 0 || bitSize > math.MaxUint32 {
		return btf.Member{}, fmt.Errorf("bit size %d: out of range", bitSize)
	}

	off, err := memberBitOffset(c, typ, bitSize, dwBigEndian(d.order))
	if err != nil {
		return btf.Member{}, err
	}
	if off < 0 || off > math.MaxUint32 {
		return btf.Member{}, fmt.Errorf("offset %d bits: out of range", off)
	}

	return btf.Member{
		Name:         c.name(),
		Type:         typ,
		Offset:       btf.Bits(off),
		BitfieldSize: btf.Bits(bitSize),
	}, nil
}

func dwBigEndian(bo binary.ByteOrder) bool {
	return bo.Uint16([]byte{0, 1}) == 1
}

// memberBitOffset returns the offset of member c from the start of its
// struct, in bits.
func memberBitOffset(c *dwEntry, typ btf.Type, bitSize int64, bigEndian bool) (int64, error) {
	// DWARF 4 and later count bits from the start of the struct.
	if off, ok := c.Val(dwarf.AttrDataBitOffset).(int64); ok {
		return off, nil
	}

	var byteOff int64
	switch loc := c.Val(dwarf.AttrDataMemberLoc).(type) {
	case int64:
		byteOff = loc
	case []byte:
		// DWARF 2 spells the offset as a location expression.
		off, err := plusUconst(loc)
		if err != nil {
			return 0, err
		}
		byteOff = off
	}
	if byteOff < 0 || byteOff > math.MaxUint32 {
		return 0, fmt.Errorf("offset %d: out of range", byteOff)
	}

	bitOff, ok := c.Val(dwarf.AttrBitOffset).(int64)
	if !ok || bitSize == 0 {
		return byteOff * 8, nil
	}

	// The DWARF 2 form counts from the most significant bit of a storage
	// unit of DW_AT_byte_size bytes at DW_AT_data_member_location. That
	// is the first bit in memory on big endian machines and the last on
	// little endian ones.
	if bigEndian {
		return byteOff*8 + bitOff, nil
	}

	storage, ok := c.Val(dwarf.AttrByteSize).(int64)
	if !ok {
		n, err := btf.Sizeof(typ)
		if err != nil {
			return 0, fmt.Errorf("bitfield storage: %w", err)
		}
		storage = int64(n)
	}
	if storage < 0 || storage > maxBaseTypeBytes {
		return 0, fmt.Errorf("bitfield storage %d: out of range", storage)
	}
	return byteOff*8 + storage*8 - bitOff - bitSize, nil
}

// DW_OP_* used here, from the DWARF 5 standard, section 7.7.1.
const (
	opPlusUconst = 0x23
	opReg0       = 0x50
	opReg31      = 0x6f
	opBreg10     = 0x7a
	opRegx       = 0x90
	opFbreg      = 0x91
	opPiece      = 0x93
)

// plusUconst decodes "DW_OP_plus_uconst N", the only member location clang
// and gcc emit as an expression.
func plusUconst(expr []byte) (int64, error) {
	if len(expr) == 0 {
		return 0, nil
	}
	c := dwCursor{b: expr}
	if op := c.u8(); op != opPlusUconst {
		return 0, fmt.Errorf("member location: unsupported operation %#x", op)
	}
	off := c.uleb()
	if c.err != nil || off > math.MaxInt64 {
		return 0, fmt.Errorf("member location: %w", cmp.Or(c.err, errDWARFOverflow))
	}
	return int64(off), nil
}

func (d *DWARF) enum(e *dwEntry) (btf.Type, error) {
	size := uint32(4) // C enums are int unless told otherwise
	if e.Val(dwarf.AttrByteSize) != nil {
		var err error
		if size, err = dwByteSize(e); err != nil {
			return nil, err
		}
	}

	en := &btf.Enum{Name: e.name(), Size: size}
	d.remember(e, en)

	var (
		names []string
		vals  []int64
	)
	for _, c := range e.children {
		if c.Tag != dwarf.TagEnumerator {
			continue
		}
		v, ok := c.Val(dwarf.AttrConstValue).(int64)
		if !ok {
			return nil, fmt.Errorf("enumerator %q: no constant value", c.name())
		}
		names, vals = append(names, c.name()), append(vals, v)
	}

	signed, err := d.enumSigned(e, vals)
	if err != nil {
		return nil, err
	}
	en.Signed = signed
	for i, v := range vals {
		en.Values = append(en.Values, btf.EnumValue{Name: names[i], Value: enumValue(v, size, signed)})
	}
	return en, nil
}

// enumSigned tells whether the values of e are signed: from the underlying
// type where DWARF records it, otherwise from the values.
func (d *DWARF) enumSigned(e *dwEntry, vals []int64) (bool, error) {
	if e.Val(dwarf.AttrType) != nil {
		t, err := d.typeOf(e)
		if err != nil {
			return false, err
		}
		if i, ok := btf.UnderlyingType(t).(*btf.Int); ok {
			return i.Encoding == btf.Signed || i.Encoding == btf.Char, nil
		}
	}
	return slices.ContainsFunc(vals, func(v int64) bool { return v < 0 }), nil
}

// enumValue normalises v the way BTF stores enum values: sign-extended to 64
// bits for signed enums, zero-extended otherwise. DW_FORM_data* constants
// arrive zero-extended whatever their sign.
func enumValue(v int64, size uint32, signed bool) uint64 {
	if size == 0 || size >= 8 {
		return uint64(v)
	}
	shift := 64 - 8*size
	if signed {
		return uint64(v << shift >> shift)
	}
	return uint64(v) << shift >> shift
}

func (d *DWARF) array(e *dwEntry) (btf.Type, error) {
	elem, err := d.typeOf(e)
	if err != nil {
		return nil, err
	}

	var dims []*dwEntry
	for _, c := range e.children {
		if c.Tag == dwarf.TagSubrangeType {
			dims = append(dims, c)
		}
	}
	if len(dims) == 0 {
		return &btf.Array{Index: d.index, Type: elem}, nil
	}

	// int a[2][3] is one DWARF array with two subranges, and an array of
	// two arrays of three ints in BTF.
	t := elem
	for i := len(dims) - 1; i >= 0; i-- {
		idx, err := d.indexType(dims[i])
		if err != nil {
			return nil, err
		}
		t = &btf.Array{Index: idx, Type: t, Nelems: subrangeCount(dims[i])}
	}
	return t, nil
}

func (d *DWARF) indexType(sub *dwEntry) (btf.Type, error) {
	if sub.Val(dwarf.AttrType) == nil {
		return d.index, nil
	}
	t, err := d.typeOf(sub)
	if err != nil {
		return nil, err
	}
	if i, ok := t.(*btf.Int); ok {
		return i, nil
	}
	return d.index, nil
}

// subrangeCount returns the number of elements of an array dimension. Flexible
// array members have no bound and count 0, as do bounds that are not
// constants (VLAs) or don't fit (gcc writes [0] as upper bound -1).
func subrangeCount(sub *dwEntry) uint32 {
	var n int64
	if c, ok := sub.Val(dwarf.AttrCount).(int64); ok {
		n = c
	} else if ub, ok := sub.Val(dwarf.AttrUpperBound).(int64); ok {
		lb, _ := sub.Val(dwarf.AttrLowerBound).(int64)
		n = ub - lb + 1
	}
	if n < 0 || n > math.MaxUint32 {
		return 0
	}
	return uint32(n)
}

func (d *DWARF) funcProto(e *dwEntry) (btf.Type, error) {
	fp := &btf.FuncProto{}
	d.types[e.Offset] = fp

	var err error
	if fp.Return, err = d.typeOf(e); err != nil {
		return nil, err
	}
	for _, c := range e.children {
		switch c.Tag {
		case dwarf.TagFormalParameter:
			t, err := d.typeOf(c)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", c.name(), err)
			}
			fp.Params = append(fp.Params, btf.FuncParam{Name: c.name(), Type: t})
		case dwarf.TagUnspecifiedParameters:
			// BTF spells "..." as a last parameter of type void.
			fp.Params = append(fp.Params, btf.FuncParam{Type: d.void})
		}
	}
	return fp, nil
}

type dwTypeKey struct {
	kind string
	name string
	size int
}

func dwKeyOf(t btf.Type) dwTypeKey {
	size, err := btf.Sizeof(t)
	if err != nil {
		size = -1
	}
	return dwTypeKey{fmt.Sprintf("%T", t), t.TypeName(), size}
}

// indexNamed collects the named types defined in the units. Linked files
// repeat headers' types in every unit, hence the deduplication.
func (d *DWARF) indexNamed() {
	type keyed struct {
		key dwTypeKey
		typ btf.Type
	}
	var named, base []keyed
	seen := make(map[dwTypeKey]bool)
	for _, e := range d.all {
		if e.name() == "" || dwIsDecl(e) {
			continue
		}
		switch e.Tag {
		case dwarf.TagStructType, dwarf.TagClassType, dwarf.TagUnionType,
			dwarf.TagEnumerationType, dwarf.TagTypedef, dwarf.TagBaseType:
		default:
			continue
		}

		t := d.types[e.Offset]
		if t == nil {
			continue
		}
		k := dwKeyOf(t)
		if seen[k] {
			continue
		}
		seen[k] = true

		if e.Tag == dwarf.TagBaseType {
			base = append(base, keyed{k, t})
		} else {
			named = append(named, keyed{k, t})
		}
	}

	slices.SortStableFunc(named, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.key.name, b.key.name), cmp.Compare(a.key.kind, b.key.kind), cmp.Compare(a.key.size, b.key.size))
	})
	for _, k := range append(named, base...) {
		d.byName[k.key.name] = append(d.byName[k.key.name], k.typ)
	}
	for _, k := range named {
		d.named = append(d.named, k.typ)
	}
}

// Types returns every named struct, union, enum and typedef defined in the
// compilation units, converted, deduplicated by (kind, name, size) and sorted by name; plus
// anonymous structs/unions reachable only through a typedef are covered by the typedef.
func (d *DWARF) Types() []btf.Type {
	return slices.Clone(d.named)
}

// TypesByName returns the types named name (C spelling without the "struct " prefix), any kind.
//
// Besides what Types returns, base types such as "int" are found too.
func (d *DWARF) TypesByName(name string) []btf.Type {
	return slices.Clone(d.byName[name])
}

// Alignment returns the alignment a struct, union, enum, typedef or base
// type was given explicitly, with __attribute__((aligned(N))) or _Alignas.
// BTF has no room for it, yet it changes sizes and offsets wherever the
// type is used.
func (d *DWARF) Alignment(t btf.Type) (uint32, bool) {
	a, ok := d.align[t]
	return a, ok
}

// MemberAlignment returns the alignment given explicitly to member
// memberIndex of struct or union s, as in int x __attribute__((aligned(16))).
func (d *DWARF) MemberAlignment(s btf.Type, memberIndex int) (uint32, bool) {
	a, ok := d.memberAlign[s][memberIndex]
	return a, ok
}

// Decl returns where the named type t was declared.
func (d *DWARF) Decl(t btf.Type) (file string, line int, ok bool) {
	p, ok := d.decls[t]
	return p.file, p.line, ok
}

// Functions returns the names of all subprograms with code.
func (d *DWARF) Functions() []string {
	var names []string
	for _, sub := range d.subprograms {
		if dwHasCode(sub) {
			if name := d.nameOf(sub); name != "" {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func dwHasCode(e *dwEntry) bool {
	return e.Val(dwarf.AttrLowpc) != nil || e.Val(dwarf.AttrRanges) != nil
}

// maxOriginDepth bounds how many DW_AT_abstract_origin and
// DW_AT_specification links are followed, in case they form a loop.
const maxOriginDepth = 8

// attr returns attribute a of e, looking through the abstract origin or
// specification: a concrete instance of an inlined function or variable
// carries its location, but its name and type live in the abstract entry.
func (d *DWARF) attr(e *dwEntry, a dwarf.Attr) any {
	for range maxOriginDepth {
		if v := e.Val(a); v != nil {
			return v
		}
		if e = d.origin(e); e == nil {
			return nil
		}
	}
	return nil
}

func (d *DWARF) origin(e *dwEntry) *dwEntry {
	for _, a := range []dwarf.Attr{dwarf.AttrAbstractOrigin, dwarf.AttrSpecification} {
		if off, ok := e.Val(a).(dwarf.Offset); ok {
			return d.entries[off]
		}
	}
	return nil
}

func (d *DWARF) nameOf(e *dwEntry) string {
	s, _ := d.attr(e, dwarf.AttrName).(string)
	return s
}

// varType returns the converted type of a variable or parameter.
func (d *DWARF) varType(e *dwEntry) btf.Type {
	off, ok := d.attr(e, dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return nil
	}
	return d.types[off]
}

// subprogramsNamed returns the subprograms named fn, from an index built on
// first use: every call site asks, so a scan per call would be quadratic.
func (d *DWARF) subprogramsNamed(fn string) []*dwEntry {
	if d.byFunc == nil {
		d.byFunc = map[string][]*dwEntry{}
		for _, sub := range d.subprograms {
			name := d.nameOf(sub)
			d.byFunc[name] = append(d.byFunc[name], sub)
		}
	}
	return d.byFunc[fn]
}

// dwWalkVars calls fn for the variables and parameters of scope, including
// those of nested blocks and of functions inlined into it.
func dwWalkVars(scope *dwEntry, fn func(*dwEntry)) {
	for _, c := range scope.children {
		switch c.Tag {
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			fn(c)
		case dwarf.TagLexDwarfBlock, dwarf.TagInlinedSubroutine:
			dwWalkVars(c, fn)
		}
	}
}

// Vars returns the types of the local variables and formal parameters named name in the
// subprogram (function) named fn, across all its lexical blocks and inlined-subroutine
// entries that have the abstract origin resolved (DW_AT_abstract_origin) -- deduplicated.
func (d *DWARF) Vars(fn, name string) []btf.Type {
	var types []btf.Type
	for _, sub := range d.subprogramsNamed(fn) {
		dwWalkVars(sub, func(v *dwEntry) {
			if d.nameOf(v) != name {
				return
			}
			if t := d.varType(v); t != nil && !slices.Contains(types, t) {
				types = append(types, t)
			}
		})
	}
	return types
}

// stackSlot is a piece of a variable that lives on the BPF stack.
type stackSlot struct {
	v   *dwEntry
	typ btf.Type
	// off is the operand of DW_OP_fbreg or DW_OP_breg10.
	off int64
	// within is where the piece starts inside the variable.
	within int64
	size   int64
	align  int64
}

// StackVar returns the variable of subprogram fn whose storage is on the BPF stack at
// r10+off (off negative), i.e. the variable whose location expression places it at that
// frame offset, and the byte offset of r10+off inside that variable (0 when off is the start).
//
// Only BPF objects have an r10. When several variables share the slot, as
// the stack coloring of clang lets variables with disjoint lifetimes do, the
// one starting at off wins, then the first in DWARF order.
func (d *DWARF) StackVar(fn string, off int64) (name string, typ btf.Type, within int64, ok bool) {
	if d.machine != elf.EM_BPF {
		return "", nil, 0, false
	}

	var best *stackSlot
	for _, sub := range d.subprogramsNamed(fn) {
		if !dwHasCode(sub) {
			continue
		}
		slots := d.stackSlots(sub)
		base := d.frameBase(sub, slots)
		for i := range slots {
			s := &slots[i]
			start := base + s.off
			if off < start || off >= start+s.size {
				continue
			}
			w := s.within + off - start
			if best == nil || (w == 0 && within != 0) {
				best, within = s, w
			}
		}
	}
	if best == nil {
		return "", nil, 0, false
	}
	return d.nameOf(best.v), best.typ, within, true
}

// StackVarsAt returns every variable of fn that starts exactly at r10+off:
// clang lets variables whose lifetimes do not overlap share a slot.
func (d *DWARF) StackVarsAt(fn string, off int64) (names []string, types []btf.Type) {
	if d.machine != elf.EM_BPF {
		return nil, nil
	}
	for _, sub := range d.subprogramsNamed(fn) {
		if !dwHasCode(sub) {
			continue
		}
		slots := d.stackSlots(sub)
		base := d.frameBase(sub, slots)
		for i := range slots {
			s := &slots[i]
			if base+s.off == off && s.within == 0 && !slices.Contains(types, s.typ) {
				names, types = append(names, d.nameOf(s.v)), append(types, s.typ)
			}
		}
	}
	return names, types
}

// stackSlots returns the pieces of the variables of sub that its location
// expressions put on the stack.
func (d *DWARF) stackSlots(sub *dwEntry) []stackSlot {
	fbreg := slices.Equal(dwExpr(sub, dwarf.AttrFrameBase), []byte{opReg0 + 10})

	var slots []stackSlot
	dwWalkVars(sub, func(v *dwEntry) {
		typ := d.varType(v)
		if typ == nil {
			return
		}
		size, err := btf.Sizeof(typ)
		if err != nil || size == 0 {
			return
		}
		align := max(int64(dwAlignment(v)), d.maxAlign(typ, make(map[btf.Type]bool)))

		for _, expr := range d.locations(v) {
			for _, p := range stackPieces(expr, fbreg) {
				s := stackSlot{v: v, typ: typ, off: p.off, within: p.within, size: p.size, align: align}
				if s.size < 0 {
					s.size = int64(size) - p.within
				}
				if s.size > 0 && !slices.Contains(slots, s) {
					slots = append(slots, s)
				}
			}
		}
	})
	return slots
}

func dwExpr(e *dwEntry, a dwarf.Attr) []byte {
	b, _ := e.Val(a).([]byte)
	return b
}

// frameBase returns the r10-relative offset that the DW_OP_fbreg and
// DW_OP_breg10 operands in sub count from.
//
// clang says the frame base is r10 (DW_AT_frame_base DW_OP_reg10), but the
// operands it writes are offsets from the bottom of the frame, r10 minus the
// stack size: it adds the stack size as if the frame register were a stack
// pointer, while BPF addresses locals downwards from r10. All operands are
// then non-negative, which no local below r10 could have if they were
// really r10-relative.
//
// DWARF doesn't record the stack size. It is at least as deep as every
// variable and every stack access in the code reaches, and LLVM rounds it up
// to the stack alignment (8) or the largest object alignment.
func (d *DWARF) frameBase(sub *dwEntry, slots []stackSlot) int64 {
	if slices.ContainsFunc(slots, func(s stackSlot) bool { return s.off < 0 }) {
		return 0
	}

	depth, align := d.codeDepth(sub), int64(8)
	for _, s := range slots {
		depth = max(depth, s.off+s.size)
		align = max(align, s.align)
	}
	return -(depth + align - 1) / align * align
}

// codeDepth returns how far below r10 the code of sub reaches.
func (d *DWARF) codeDepth(sub *dwEntry) int64 {
	frames := d.frames[d.nameOf(sub)]
	if len(frames) == 1 {
		return frames[0].depth
	}
	lowpc, _ := sub.Val(dwarf.AttrLowpc).(uint64)
	for _, f := range frames {
		if f.addr == lowpc {
			return f.depth
		}
	}
	return 0
}

// maxAlign returns the largest explicit alignment inside t. BPF's stack
// alignment is 8, but an over-aligned local raises that of its frame.
func (d *DWARF) maxAlign(t btf.Type, seen map[btf.Type]bool) int64 {
	if t == nil || seen[t] {
		return 0
	}
	seen[t] = true

	a := int64(d.align[t])
	switch t := t.(type) {
	case *btf.Int:
		a = max(a, int64(t.Size)) // __int128 is 16-byte aligned
	case *btf.Typedef:
		a = max(a, d.maxAlign(t.Type, seen))
	case *btf.Const:
		a = max(a, d.maxAlign(t.Type, seen))
	case *btf.Volatile:
		a = max(a, d.maxAlign(t.Type, seen))
	case *btf.Restrict:
		a = max(a, d.maxAlign(t.Type, seen))
	case *btf.Array:
		a = max(a, d.maxAlign(t.Type, seen))
	case *btf.Struct:
		a = max(a, d.membersAlign(t, t.Members, seen))
	case *btf.Union:
		a = max(a, d.membersAlign(t, t.Members, seen))
	}
	return a
}

func (d *DWARF) membersAlign(owner btf.Type, ms []btf.Member, seen map[btf.Type]bool) int64 {
	var a int64
	for i, m := range ms {
		a = max(a, int64(d.memberAlign[owner][i]), d.maxAlign(m.Type, seen))
	}
	return a
}

// locations returns the location expressions of v: the one of an exprloc,
// or every entry of its location list.
func (d *DWARF) locations(v *dwEntry) [][]byte {
	switch loc := v.Val(dwarf.AttrLocation).(type) {
	case []byte:
		return [][]byte{loc}
	case int64:
		// A section offset: .debug_loclists from DWARF 5 on, .debug_loc before.
		if loc < 0 {
			return nil
		}
		if v.unit.version >= 5 || (v.unit.version == 0 && d.loclists != nil) {
			return d.loclistExprs(uint64(loc), v.unit.addrSize)
		}
		return d.locExprs(uint64(loc), v.unit.addrSize)
	case uint64:
		// DW_FORM_loclistx: an index into the offsets after the unit's
		// DW_AT_loclists_base.
		off, ok := d.loclistx(v.unit, loc)
		if !ok {
			return nil
		}
		return d.loclistExprs(off, v.unit.addrSize)
	}
	return nil
}

func (d *DWARF) loclistx(u *dwUnit, idx uint64) (uint64, bool) {
	c := dwCursor{b: d.loclists, order: d.order}
	if u.dwarf64 {
		if !c.seek(u.loclistsBase, idx, 8) {
			return 0, false
		}
		return u.loclistsBase + c.u64(), c.err == nil
	}
	if !c.seek(u.loclistsBase, idx, 4) {
		return 0, false
	}
	return u.loclistsBase + uint64(c.u32()), c.err == nil
}

// DW_LLE_* from the DWARF 5 standard, section 7.7.3.
const (
	lleEndOfList       = 0x00
	lleBaseAddressx    = 0x01
	lleStartxEndx      = 0x02
	lleStartxLength    = 0x03
	lleOffsetPair      = 0x04
	lleDefaultLocation = 0x05
	lleBaseAddress     = 0x06
	lleStartEnd        = 0x07
	lleStartLength     = 0x08
)

// loclistExprs returns the expressions of the DWARF 5 location list at off.
// The address ranges don't matter to where a variable sits in the frame.
func (d *DWARF) loclistExprs(off uint64, addrSize int) [][]byte {
	c := dwCursor{b: d.loclists, order: d.order}
	if !c.seek(off, 0, 0) {
		return nil
	}

	var exprs [][]byte
	for c.err == nil {
		switch c.u8() {
		case lleEndOfList:
			return exprs
		case lleBaseAddressx:
			c.uleb()
			continue
		case lleStartxEndx, lleStartxLength, lleOffsetPair:
			c.uleb()
			c.uleb()
		case lleDefaultLocation:
		case lleBaseAddress:
			c.addr(addrSize)
			continue
		case lleStartEnd:
			c.addr(addrSize)
			c.addr(addrSize)
		case lleStartLength:
			c.addr(addrSize)
			c.uleb()
		default:
			return exprs
		}
		if expr := c.bytes(c.uleb()); c.err == nil {
			exprs = append(exprs, expr)
		}
	}
	return exprs
}

// locExprs returns the expressions of the DWARF 2-4 location list at off.
func (d *DWARF) locExprs(off uint64, addrSize int) [][]byte {
	c := dwCursor{b: d.loc, order: d.order}
	if !c.seek(off, 0, 0) {
		return nil
	}

	baseSelect := uint64(math.MaxUint64)
	if addrSize == 4 {
		baseSelect = math.MaxUint32
	}

	var exprs [][]byte
	for c.err == nil {
		start, end := c.addr(addrSize), c.addr(addrSize)
		switch {
		case start == 0 && end == 0:
			return exprs
		case start == baseSelect:
			continue
		}
		if expr := c.bytes(uint64(c.u16())); c.err == nil {
			exprs = append(exprs, expr)
		}
	}
	return exprs
}

type locPiece struct {
	off    int64
	within int64
	// size is -1 for the rest of the variable.
	size int64
}

// stackPieces returns the parts of a location expression that are stack
// memory: a lone DW_OP_breg10 N, or DW_OP_fbreg N when the frame base is
// r10, optionally split by DW_OP_piece. Anything else, such as a register,
// a constant, or an address computed with DW_OP_stack_value, is not storage
// on the stack.
func stackPieces(expr []byte, fbreg bool) []locPiece {
	var (
		c      = dwCursor{b: expr}
		pieces []locPiece
		cur    *locPiece
		within int64
		simple = true // the current piece is a single memory location
	)
	for len(c.b) > 0 && c.err == nil {
		switch op := c.u8(); {
		case op == opBreg10 || (op == opFbreg && fbreg):
			off := c.sleb()
			if cur != nil {
				simple = false
			}
			cur = &locPiece{off: off, within: within, size: -1}
		case op == opPiece:
			size := c.uleb()
			if size > math.MaxInt32 {
				return pieces
			}
			if cur != nil && simple {
				cur.size = int64(size)
				pieces = append(pieces, *cur)
			}
			cur, simple = nil, true
			within += int64(size)
		case op >= opReg0 && op <= opReg31:
			simple = false
		case op == opRegx:
			c.uleb()
			simple = false
		default:
			// Operands of other operations aren't decoded, so the
			// rest of the expression can't be followed.
			return pieces
		}
	}
	if cur != nil && simple && c.err == nil {
		pieces = append(pieces, *cur)
	}
	return pieces
}

type codeFrame struct {
	addr  uint64
	depth int64
}

// codeFrames returns how deep below r10 the code of each function symbol in
// f reaches.
func codeFrames(f *elf.File) map[string][]codeFrame {
	syms, err := f.Symbols()
	if err != nil {
		return nil
	}

	frames := make(map[string][]codeFrame)
	code := make(map[elf.SectionIndex][]byte)
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) != elf.STT_FUNC || sym.Section == elf.SHN_UNDEF || int(sym.Section) >= len(f.Sections) {
			continue
		}
		b, ok := code[sym.Section]
		if !ok {
			if sec := f.Sections[sym.Section]; sec.Type == elf.SHT_PROGBITS {
				b, _ = sec.Data()
			}
			code[sym.Section] = b
		}
		if sym.Value >= uint64(len(b)) {
			continue
		}
		end := uint64(len(b))
		if sym.Size > 0 && sym.Size < end-sym.Value {
			end = sym.Value + sym.Size
		}
		frames[sym.Name] = append(frames[sym.Name], codeFrame{sym.Value, frameDepth(b[sym.Value:end], f.ByteOrder)})
	}
	return frames
}

type frameInsn struct {
	op       asm.OpCode
	dst, src asm.Register
	off      int64
	imm      int64
}

func decodeFrameInsn(b []byte, bo binary.ByteOrder) frameInsn {
	ins := frameInsn{
		op:  asm.OpCode(b[0]),
		off: int64(int16(bo.Uint16(b[2:]))),
		imm: int64(int32(bo.Uint32(b[4:]))),
	}
	if dwBigEndian(bo) {
		ins.dst, ins.src = asm.Register(b[1]>>4), asm.Register(b[1]&0xf)
	} else {
		ins.dst, ins.src = asm.Register(b[1]&0xf), asm.Register(b[1]>>4)
	}
	return ins
}

// frameDepth returns how many bytes below r10 the code touches: loads and
// stores through r10, and through registers holding r10 plus a constant,
// which is how the address of a stack variable is passed to helpers.
func frameDepth(code []byte, bo binary.ByteOrder) int64 {
	n := len(code) / asm.InstructionSize
	targets := frameJumpTargets(code, bo)

	type frameReg struct {
		ok  bool
		off int64
	}
	var (
		regs  [asm.R10 + 1]frameReg
		depth int64
	)
	reset := func() {
		regs = [asm.R10 + 1]frameReg{asm.R10: {ok: true}}
	}
	touch := func(base asm.Register, off int64) {
		if base <= asm.R10 && regs[base].ok {
			depth = max(depth, -(regs[base].off + off))
		}
	}
	forget := func(r asm.Register) {
		if r < asm.R10 {
			regs[r] = frameReg{}
		}
	}

	reset()
	for pc := 0; pc < n; pc++ {
		if targets[pc] {
			reset() // joins paths whose registers may differ
		}
		ins := decodeFrameInsn(code[pc*asm.InstructionSize:], bo)

		switch ins.op.Class() {
		case asm.LdClass:
			forget(ins.dst)
			forget(asm.R0)
			if ins.op.IsDWordLoad() {
				pc++
			}
		case asm.LdXClass:
			touch(ins.src, ins.off)
			forget(ins.dst)
		case asm.StClass:
			touch(ins.dst, ins.off)
		case asm.StXClass:
			touch(ins.dst, ins.off)
			if ins.op.Mode() == asm.AtomicMode {
				forget(ins.src)
				forget(asm.R0)
			}
		case asm.ALU64Class:
			if ins.dst >= asm.R10 {
				break
			}
			switch {
			case ins.op.ALUOp() == asm.Mov && ins.op.Source() == asm.RegSource && ins.off == 0 && ins.src <= asm.R10:
				regs[ins.dst] = regs[ins.src]
			case ins.op.ALUOp() == asm.Add && ins.op.Source() == asm.ImmSource:
				regs[ins.dst].off += ins.imm
			case ins.op.ALUOp() == asm.Sub && ins.op.Source() == asm.ImmSource:
				regs[ins.dst].off -= ins.imm
			default:
				forget(ins.dst)
			}
		case asm.ALUClass:
			forget(ins.dst)
		case asm.JumpClass, asm.Jump32Class:
			switch ins.op.JumpOp() {
			case asm.Call:
				for r := asm.R0; r <= asm.R5; r++ {
					forget(r)
				}
			case asm.Exit, asm.Ja:
				reset()
			}
		}
	}
	return depth
}

// frameJumpTargets marks the instructions that jumps land on.
func frameJumpTargets(code []byte, bo binary.ByteOrder) []bool {
	n := len(code) / asm.InstructionSize
	targets := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		ins := decodeFrameInsn(code[pc*asm.InstructionSize:], bo)
		cls := ins.op.Class()
		if cls == asm.LdClass && ins.op.IsDWordLoad() {
			pc++
			continue
		}
		if !cls.IsJump() {
			continue
		}

		var to int64
		switch op := ins.op.JumpOp(); {
		case op == asm.Call || op == asm.Exit:
			continue
		case op == asm.Ja && cls == asm.Jump32Class:
			to = int64(pc) + 1 + ins.imm // gotol
		default:
			to = int64(pc) + 1 + ins.off
		}
		if to >= 0 && to < int64(n) {
			targets[to] = true
		}
	}
	return targets
}

var errDWARFOverflow = errors.New("value overflows")

// cursor reads the primitive encodings of DWARF. Reads past the end set err
// and return zero.
type dwCursor struct {
	b     []byte
	order binary.ByteOrder
	err   error
}

func (c *dwCursor) fail() {
	if c.err == nil {
		c.err = errors.New("unexpected end of data")
	}
	c.b = nil
}

// seek positions c at base+idx*size.
func (c *dwCursor) seek(base, idx, size uint64) bool {
	if size > 0 && idx > (math.MaxUint64-base)/size {
		return false
	}
	pos := base + idx*size
	if pos > uint64(len(c.b)) {
		return false
	}
	c.b = c.b[pos:]
	return true
}

func (c *dwCursor) bytes(n uint64) []byte {
	if n > uint64(len(c.b)) {
		c.fail()
		return nil
	}
	b := c.b[:n]
	c.b = c.b[n:]
	return b
}

func (c *dwCursor) u8() byte {
	b := c.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (c *dwCursor) u16() uint16 {
	if b := c.bytes(2); b != nil {
		return c.order.Uint16(b)
	}
	return 0
}

func (c *dwCursor) u32() uint32 {
	if b := c.bytes(4); b != nil {
		return c.order.Uint32(b)
	}
	return 0
}

func (c *dwCursor) u64() uint64 {
	if b := c.bytes(8); b != nil {
		return c.order.Uint64(b)
	}
	return 0
}

func (c *dwCursor) addr(size int) uint64 {
	switch size {
	case 4:
		return uint64(c.u32())
	case 8:
		return c.u64()
	}
	c.fail()
	return 0
}

func (c *dwCursor) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := c.u8()
		if c.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			return v
		}
	}
}

func (c *dwCursor) sleb() int64 {
	var (
		v     int64
		shift uint
		b     byte
	)
	for {
		b = c.u8()
		if c.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			break
		}
	}
	if shift < 64 && b&0x40 != 0 {
		v |= -1 << shift
	}
	return v
}
