package btfsize

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// insn is one decoded instruction with its raw index in its section.
type insn struct {
	asm.Instruction
	// idx is the index of the instruction in its section, in raw 8-byte slots.
	idx int
}

// function is one BPF function: a program or a subprogram.
type function struct {
	name    string
	section string
	// start and end are raw instruction indexes in the section, end exclusive.
	start, end int
	insns      []insn
	// entry is true for a program the loader attaches (any function outside .text).
	entry bool
	// calls are the functions this one calls or passes as a callback.
	calls []*function
	// proto is the function's BTF prototype, when .BTF.ext has func info.
	proto *btf.FuncProto
}

// reloc is a relocation against one instruction.
type reloc struct {
	sym elf.Symbol
	// section is the name of the section the symbol is in.
	section string
}

// mapDef is a map declared in .maps (BTF style) or maps (legacy).
type mapDef struct {
	name       string
	typ        uint32
	maxEntries uint32
	value      btf.Type // nil when not declared
	valueSize  uint32
}

// program is the code of an eBPF object: its functions, relocations and maps.
type program struct {
	bo     binary.ByteOrder
	funcs  []*function
	relocs map[string]map[int]reloc // section → raw index → relocation
	// core holds the CO-RE relocations of .BTF.ext: immediates that libbpf
	// rewrites for the kernel it loads on, by section and raw index.
	core    map[string]map[int]*btf.CORERelocation
	maps    map[string]*mapDef
	lines   map[string]btf.LineOffsets
	symbols []elf.Symbol
	// symbolSection names the section of each map symbol.
	symbolSection map[string]string
	// rodata holds the contents of read-only data sections: the defaults
	// of const volatile globals.
	rodata map[string][]byte
	// sections are the section names by index.
	sections []string
}

// loadProgram reads the functions, relocations and maps of an eBPF object.
func loadProgram(ef *elf.File, spec *btf.Spec, ext *btf.ExtInfos) (*program, error) {
	syms, err := ef.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("symbols: %w", err)
	}
	p := &program{bo: ef.ByteOrder, relocs: map[string]map[int]reloc{}, maps: map[string]*mapDef{},
		core:  map[string]map[int]*btf.CORERelocation{},
		lines: map[string]btf.LineOffsets{}, symbols: syms}
	for i, sec := range ef.Sections {
		if sec.Type != elf.SHT_PROGBITS || sec.Flags&elf.SHF_EXECINSTR == 0 || sec.Size == 0 {
			continue
		}
		if err := p.addSection(ef, i, sec, ext); err != nil {
			return nil, fmt.Errorf("section %s: %w", sec.Name, err)
		}
	}
	p.rodata = map[string][]byte{}
	for _, sec := range ef.Sections {
		p.sections = append(p.sections, sec.Name)
		if strings.HasPrefix(sec.Name, ".rodata") && sec.Type == elf.SHT_PROGBITS && sec.Flags&elf.SHF_WRITE == 0 {
			if data, err := sec.Data(); err == nil {
				p.rodata[sec.Name] = data
			}
		}
	}
	if err := p.loadMaps(ef, spec); err != nil {
		return nil, fmt.Errorf("maps: %w", err)
	}
	p.link()
	return p, nil
}

func (p *program) addSection(ef *elf.File, idx int, sec *elf.Section, ext *btf.ExtInfos) error {
	data, err := sec.Data()
	if err != nil {
		return err
	}
	insns, err := decode(data, ef.ByteOrder)
	if err != nil {
		return err
	}
	relocs, err := readRelocs(ef, idx, p.symbols)
	if err != nil {
		return fmt.Errorf("relocations: %w", err)
	}
	p.relocs[sec.Name] = relocs
	funcs, lines, core := ext.Section(sec.Name)
	p.lines[sec.Name] = lines
	for _, c := range core {
		if p.core[sec.Name] == nil {
			p.core[sec.Name] = map[int]*btf.CORERelocation{}
		}
		p.core[sec.Name][int(c.Offset)] = c.Relo
	}
	p.funcs = append(p.funcs, splitFunctions(sec.Name, idx, p.symbols, insns, funcs)...)
	return nil
}

// decode unmarshals the instructions of a section, keeping raw indexes.
func decode(data []byte, bo binary.ByteOrder) ([]insn, error) {
	if len(data)%asm.InstructionSize != 0 {
		return nil, fmt.Errorf("size %d is not a multiple of %d", len(data), asm.InstructionSize)
	}
	r := bytes.NewReader(data)
	insns := make([]insn, 0, len(data)/asm.InstructionSize)
	for idx := 0; r.Len() > 0; {
		var ins asm.Instruction
		if err := ins.Unmarshal(r, bo, "linux"); err != nil {
			return nil, fmt.Errorf("instruction %d: %w", idx, err)
		}
		insns = append(insns, insn{ins, idx})
		idx += int(ins.Size() / asm.InstructionSize)
	}
	return insns, nil
}

// readRelocs reads the SHT_REL section that applies to section idx, indexed by
// raw instruction.
func readRelocs(ef *elf.File, idx int, syms []elf.Symbol) (map[int]reloc, error) {
	out := map[int]reloc{}
	for _, rs := range ef.Sections {
		if rs.Type != elf.SHT_REL || int(rs.Info) != idx {
			continue
		}
		data, err := rs.Data()
		if err != nil {
			return nil, err
		}
		for off := 0; off+16 <= len(data); off += 16 {
			r := ef.ByteOrder.Uint64(data[off:])
			info := ef.ByteOrder.Uint64(data[off+8:])
			// Symbol indexes count the null symbol that ef.Symbols() drops.
			si := int(info>>32) - 1
			if si < 0 || si >= len(syms) {
				return nil, fmt.Errorf("relocation at %#x: symbol %d out of range", r, si+1)
			}
			sym := syms[si]
			out[int(r/asm.InstructionSize)] = reloc{sym, sectionName(ef, sym.Section)}
		}
	}
	return out, nil
}

func sectionName(ef *elf.File, i elf.SectionIndex) string {
	if int(i) < len(ef.Sections) {
		return ef.Sections[i].Name
	}
	return ""
}

// splitFunctions cuts a section into functions at its STT_FUNC symbols.
func splitFunctions(section string, idx int, syms []elf.Symbol, insns []insn, funcInfos btf.FuncOffsets) []*function {
	var starts []elf.Symbol
	for _, s := range syms {
		if int(s.Section) == idx && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			starts = append(starts, s)
		}
	}
	slices.SortFunc(starts, func(a, b elf.Symbol) int { return int(a.Value) - int(b.Value) })
	if len(starts) == 0 || starts[0].Value != 0 {
		// Code before the first symbol: name it after the section.
		starts = append([]elf.Symbol{{Name: section}}, starts...)
	}
	total := 0
	if n := len(insns); n > 0 {
		total = insns[n-1].idx + int(insns[n-1].Size()/asm.InstructionSize)
	}
	var fns []*function
	for i, s := range starts {
		fn := &function{name: s.Name, section: section, start: int(s.Value / asm.InstructionSize), end: total,
			entry: section != ".text"}
		if i+1 < len(starts) {
			fn.end = int(starts[i+1].Value / asm.InstructionSize)
		}
		if fn.end <= fn.start {
			continue
		}
		lo, _ := slices.BinarySearchFunc(insns, fn.start, func(in insn, idx int) int { return in.idx - idx })
		hi, _ := slices.BinarySearchFunc(insns, fn.end, func(in insn, idx int) int { return in.idx - idx })
		fn.insns = insns[lo:hi]
		for _, fi := range funcInfos {
			if int(fi.Offset) == fn.start && fi.Func != nil {
				fn.proto, _ = fi.Func.Type.(*btf.FuncProto)
			}
		}
		fns = append(fns, fn)
	}
	return fns
}

// at returns the function of section that holds raw instruction idx.
func (p *program) at(section string, idx int) *function {
	for _, fn := range p.funcs {
		if fn.section == section && idx >= fn.start && idx < fn.end {
			return fn
		}
	}
	return nil
}

// target resolves a BPF-to-BPF call or a function reference (callback) to
// the function it reaches, with libbpf's rules (bpf_object__reloc_code): a
// relocated call reaches sym_off/8 + imm + 1, a relocated ld_imm64 reaches
// (sym_off + imm)/8, and a call without relocation is relative.
func (p *program) target(fn *function, ins insn) *function {
	r, ok := p.relocs[fn.section][ins.idx]
	switch {
	case ins.IsFunctionCall() && ok:
		return p.at(r.section, int(r.sym.Value/asm.InstructionSize)+int(ins.Constant)+1)
	case ins.IsFunctionCall():
		return p.at(fn.section, ins.idx+int(ins.Constant)+1)
	case ins.OpCode.IsDWordLoad() && ok && p.isCode(r.section):
		return p.at(r.section, int((int64(r.sym.Value)+ins.Constant)/asm.InstructionSize))
	}
	return nil
}

func (p *program) isCode(section string) bool {
	return slices.ContainsFunc(p.funcs, func(fn *function) bool { return fn.section == section })
}

// link records the call graph.
func (p *program) link() {
	for _, fn := range p.funcs {
		for _, ins := range fn.insns {
			if t := p.target(fn, ins); t != nil && !slices.Contains(fn.calls, t) {
				fn.calls = append(fn.calls, t)
			}
		}
	}
}

// entries returns, for every function, the sorted names of the programs that reach it.
func (p *program) entries() map[*function][]string {
	out := map[*function][]string{}
	for _, root := range p.funcs {
		if !root.entry {
			continue
		}
		seen := map[*function]bool{}
		stack := []*function{root}
		for len(stack) > 0 {
			fn := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[fn] {
				continue
			}
			seen[fn] = true
			out[fn] = append(out[fn], root.name)
			stack = append(stack, fn.calls...)
		}
	}
	for fn := range out {
		slices.Sort(out[fn])
		out[fn] = slices.Compact(out[fn])
	}
	return out
}

// mapRef returns the map an ld_imm64 loads, if any.
func (p *program) mapRef(fn *function, ins insn) (*mapDef, bool) {
	if !ins.OpCode.IsDWordLoad() {
		return nil, false
	}
	r, ok := p.relocs[fn.section][ins.idx]
	if !ok || (r.section != ".maps" && r.section != "maps") {
		return nil, false
	}
	if elf.ST_TYPE(r.sym.Info) == elf.STT_SECTION {
		// A static map is relocated against its section: the immediate
		// holds its offset there.
		return p.mapAt(r.section, r.sym.Value+uint64(ins.Constant))
	}
	m, ok := p.maps[r.sym.Name]
	return m, ok
}

// rodataRef returns the read-only data section and offset an ld_imm64
// loads the address of: `const volatile` globals live there.
func (p *program) rodataRef(fn *function, ins insn) (string, int64, bool) {
	r, ok := p.relocs[fn.section][ins.idx]
	if !ok || p.rodata[r.section] == nil {
		return "", 0, false
	}
	return r.section, int64(r.sym.Value) + ins.Constant, true
}

// readGlobal reads n bytes at off of a read-only section: the default of
// the global there, named by its symbol.
func (p *program) readGlobal(section string, off int64, n int) (*globalRef, bool) {
	data := p.rodata[section]
	if off < 0 || n <= 0 || n > 8 || off+int64(n) > int64(len(data)) {
		return nil, false
	}
	var buf [8]byte
	if p.bo == binary.BigEndian {
		copy(buf[8-n:], data[off:off+int64(n)])
	} else {
		copy(buf[:n], data[off:off+int64(n)])
	}
	g := &globalRef{section: section, def: p.bo.Uint64(buf[:])}
	for _, s := range p.symbols {
		if p.symbolSectionOf(s) == section && elf.ST_TYPE(s.Info) == elf.STT_OBJECT &&
			uint64(off) >= s.Value && uint64(off) < s.Value+max(s.Size, 1) {
			g.name = s.Name
		}
	}
	return g, true
}

// symbolSectionOf names the section of symbol s.
func (p *program) symbolSectionOf(s elf.Symbol) string {
	if int(s.Section) < len(p.sections) {
		return p.sections[s.Section]
	}
	return ""
}

// mapAt returns the map whose symbol sits at off in section.
func (p *program) mapAt(section string, off uint64) (*mapDef, bool) {
	for _, s := range p.symbols {
		if s.Value == off && elf.ST_TYPE(s.Info) == elf.STT_OBJECT && p.symbolSection[s.Name] == section {
			m, ok := p.maps[s.Name]
			return m, ok
		}
	}
	return nil, false
}

// loadMaps reads BTF-style map definitions from the .maps datasec and legacy
// struct bpf_map_def entries from the maps section.
func (p *program) loadMaps(ef *elf.File, spec *btf.Spec) error {
	p.symbolSection = map[string]string{}
	for _, s := range p.symbols {
		switch sec := sectionName(ef, s.Section); sec {
		case ".maps", "maps":
			p.symbolSection[s.Name] = sec
		}
		switch sectionName(ef, s.Section) {
		case ".maps":
			p.maps[s.Name] = &mapDef{name: s.Name}
		case "maps":
			if err := p.legacyMap(ef, s); err != nil {
				return err
			}
		}
	}
	if spec == nil {
		return nil
	}
	var ds *btf.Datasec
	if err := spec.TypeByName(".maps", &ds); err != nil {
		return nil
	}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			continue
		}
		def, err := btfMap(v)
		if err != nil {
			return fmt.Errorf("map %s: %w", v.Name, err)
		}
		p.maps[v.Name] = def
	}
	return nil
}

// btfMap reads a map definition: a struct of __uint(type, …), __uint(max_entries, …),
// __type(value, …) members as libbpf's parse_btf_map_def reads them (tools/lib/bpf/libbpf.c).
func btfMap(v *btf.Var) (*mapDef, error) {
	def := &mapDef{name: v.Name}
	s, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
	if !ok {
		return nil, fmt.Errorf("definition is %s, not a struct", TypeName(v.Type))
	}
	uints := map[string]*uint32{"type": &def.typ, "max_entries": &def.maxEntries, "value_size": &def.valueSize}
	for _, m := range s.Members {
		if field, ok := uints[m.Name]; ok {
			n, err := uintMember(m)
			if err != nil {
				return nil, err
			}
			*field = n
			continue
		}
		if m.Name == "value" {
			ptr, ok := btf.UnderlyingType(m.Type).(*btf.Pointer)
			if !ok {
				return nil, errors.New("value is not a pointer")
			}
			def.value = ptr.Target
			if n, err := btf.Sizeof(ptr.Target); err == nil {
				def.valueSize = uint32(n)
			}
		}
	}
	return def, nil
}

// uintMember decodes __uint(name, val): int (*name)[val].
func uintMember(m btf.Member) (uint32, error) {
	ptr, ok := btf.UnderlyingType(m.Type).(*btf.Pointer)
	if !ok {
		return 0, fmt.Errorf("%s is not a pointer", m.Name)
	}
	arr, ok := btf.UnderlyingType(ptr.Target).(*btf.Array)
	if !ok {
		return 0, fmt.Errorf("%s is not a pointer to an array", m.Name)
	}
	return arr.Nelems, nil
}

// legacyMap reads struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags; }.
func (p *program) legacyMap(ef *elf.File, s elf.Symbol) error {
	sec := ef.Sections[s.Section]
	if sec.Type == elf.SHT_NOBITS {
		return nil
	}
	var raw [16]byte
	if _, err := sec.ReadAt(raw[:], int64(s.Value)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("legacy map %s: %w", s.Name, err)
	}
	p.maps[s.Name] = &mapDef{
		name:       s.Name,
		typ:        p.bo.Uint32(raw[0:]),
		valueSize:  p.bo.Uint32(raw[8:]),
		maxEntries: p.bo.Uint32(raw[12:]),
	}
	return nil
}

// Map types from enum bpf_map_type (include/uapi/linux/bpf.h).
const (
	mapPerfEventArray = 4
	mapRingbuf        = 27
)

var mapTypeNames = strings.Fields(`unspec hash array prog_array perf_event_array percpu_hash
	percpu_array stack_trace cgroup_array lru_hash lru_percpu_hash lpm_trie array_of_maps
	hash_of_maps devmap sockmap cpumap xskmap sockhash cgroup_storage reuseport_sockarray
	percpu_cgroup_storage queue stack sk_storage devmap_hash struct_ops ringbuf inode_storage
	task_storage bloom_filter user_ringbuf cgrp_storage arena`)

func mapTypeName(t uint32) string {
	if int(t) < len(mapTypeNames) {
		return mapTypeNames[t]
	}
	return fmt.Sprintf("map_type_%d", t)
}

// lineAt returns the line info in effect at raw instruction idx of fn: the
// last one at or before it inside fn.
func (p *program) lineAt(fn *function, idx int) *btf.Line {
	var best *btf.Line
	for _, lo := range p.lines[fn.section] {
		off := int(lo.Offset)
		if off > idx {
			break
		}
		if off >= fn.start {
			best = lo.Line
		}
	}
	return best
}

// linesOf returns the line infos inside fn.
func (p *program) linesOf(fn *function) []*btf.Line {
	var out []*btf.Line
	for _, lo := range p.lines[fn.section] {
		if off := int(lo.Offset); off >= fn.start && off < fn.end {
			out = append(out, lo.Line)
		}
	}
	return out
}
