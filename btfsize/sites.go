package btfsize

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// helperNames are the sends btfsize looks for, by helper ID.
var helperNames = map[int64]string{
	helperRingbufOutput:        HelperRingbufOutput,
	helperRingbufReserve:       HelperRingbufReserve,
	helperRingbufReserveDynptr: HelperRingbufReserveDynptr,
	helperPerfEventOutput:      HelperPerfEventOutput,
}

// helperIDs maps names back to IDs.
var helperIDs = map[string]int64{
	HelperRingbufOutput:        helperRingbufOutput,
	HelperRingbufReserve:       helperRingbufReserve,
	HelperRingbufReserveDynptr: helperRingbufReserveDynptr,
	HelperPerfEventOutput:      helperPerfEventOutput,
}

// args are the registers a send takes its map, data and size from.
type args struct{ mapReg, dataReg, sizeReg asm.Register }

// helperArgs follows the helpers' prototypes in include/uapi/linux/bpf.h:
//
//	long bpf_ringbuf_output(void *ringbuf, void *data, u64 size, u64 flags)
//	void *bpf_ringbuf_reserve(void *ringbuf, u64 size, u64 flags)
//	long bpf_ringbuf_reserve_dynptr(void *ringbuf, u32 size, u64 flags, struct bpf_dynptr *ptr)
//	long bpf_perf_event_output(void *ctx, struct bpf_map *map, u64 flags, void *data, u64 size)
var helperArgs = map[int64]args{
	helperRingbufOutput:        {asm.R1, asm.R2, asm.R3},
	helperRingbufReserve:       {asm.R1, 0, asm.R2},
	helperRingbufReserveDynptr: {asm.R1, 0, asm.R2},
	helperPerfEventOutput:      {asm.R2, asm.R4, asm.R5},
}

func isSend(ins insn) bool {
	_, ok := helperNames[ins.Constant]
	return ins.IsBuiltinCall() && ok
}

// call is one send found in the code, with the dataflow state before it.
type call struct {
	fn  *function
	ins insn
	st  *state
}

// calls finds every send in p, one per physical call.
func (p *program) calls() []call {
	var out []call
	for _, fn := range p.funcs {
		if !slices.ContainsFunc(fn.insns, isSend) {
			continue
		}
		states := p.flow(fn, isSend)
		for _, ins := range fn.insns {
			if !isSend(ins) {
				continue
			}
			st := states[ins.idx]
			if st == nil {
				// Unreachable in the CFG: report it with nothing known.
				st = &state{}
			}
			out = append(out, call{fn, ins, st})
		}
	}
	return out
}

// SiteOptions control how sites are analysed.
type SiteOptions struct {
	// HeaderSize of a ringbuf record, in bytes.
	HeaderSize uint64
	// PageSize is the target's page size in bytes, for ring-size warnings.
	PageSize uint64
	// Headers name the types of stripped objects.
	Headers []*Object
}

// Analysis is what one object's code sends.
type Analysis struct {
	Sites    []Site
	Warnings []Warning
	// Sent are the types the sites send, for their layouts.
	Sent []Found
}

// Sites finds every send in an eBPF object and names what it sends.
func (o *Object) Sites(opts SiteOptions) (*Analysis, error) {
	if o.Kind != KindObject {
		return &Analysis{}, nil
	}
	prog, err := loadProgram(o.elf, o.spec, o.ext)
	if err != nil {
		return nil, err
	}
	res := &resolver{obj: o, prog: prog, headers: opts.Headers}
	entries := prog.entries()
	a := &Analysis{}
	for _, c := range prog.calls() {
		site, found := res.site(c, entries[c.fn], opts)
		a.Sites = append(a.Sites, site)
		if found != nil && !slices.ContainsFunc(a.Sent, func(f Found) bool { return f.Type == found.Type }) {
			a.Sent = append(a.Sent, *found)
		}
		a.Warnings = append(a.Warnings, siteWarnings(o.Path, &site, c, found)...)
	}
	a.Warnings = append(a.Warnings, mapWarnings(o.Path, prog, opts.PageSize)...)
	return a, nil
}

// site builds the row of one call.
func (r *resolver) site(c call, entries []string, opts SiteOptions) (Site, *Found) {
	id := c.ins.Constant
	regs := helperArgs[id]
	s := Site{
		Object:        r.obj.Path,
		Program:       c.fn.name,
		EntryPrograms: entries,
		Section:       c.fn.section,
		Insn:          c.ins.idx - c.fn.start,
		Helper:        helperNames[id],
	}
	if m := c.st.regs[regs.mapReg]; m.kind == vMap {
		s.Map, s.MapType = m.m.name, mapTypeName(m.m.typ)
		if m.m.maxEntries != 0 {
			// 0 means user space sizes the map before load.
			s.MapSize = ptr(uint64(m.m.maxEntries))
		}
	}
	size := c.st.regs[regs.sizeReg]
	if size.core != nil {
		s.SizeRelocation = coreWords(size.core)
	}
	if size.global != nil && !size.isConst() {
		s.SizeGlobal, s.SizeDefault = orUnknown(size.global.name), ptr(size.global.def)
	}
	if size.kind == vScalar && size.lo == size.hi {
		s.Size = ptr(size.lo)
	} else if size.kind == vScalar {
		s.SizeMin, s.SizeMax = ptr(size.lo), ptr(size.hi)
	}
	r.locate(&s, c)
	found := r.resolve(&s, c, regs)
	figures(&s, opts.HeaderSize)
	return s, found
}

func ptr[T any](v T) *T { return &v }

// figures fills in the record size, headroom and records per ring.
func figures(s *Site, hdr uint64) {
	size := s.Size
	if size == nil {
		size = s.SizeMax
	}
	if s.SizeDefault != nil {
		// A global user space sets before load: what it costs as built.
		size = s.SizeDefault
	}
	if size == nil || *size > 1<<32 {
		return
	}
	if s.Helper == HelperPerfEventOutput {
		rec := PerfRecordSize(*size)
		s.RecordSize, s.Headroom = &rec, ptr(rec-8-4-*size)
		return
	}
	rec := RecordSize(*size, hdr)
	s.RecordSize, s.Headroom = &rec, ptr(Headroom(*size, hdr))
	if s.MapType == "ringbuf" && s.MapSize != nil {
		s.RecordsPerRing = ptr(RecordsPerRing(*s.MapSize, rec))
	}
}

// locate sets the file and line of the call, and of its caller when the call
// sits in an inlined wrapper (a compat.bpf.h helper).
func (r *resolver) locate(s *Site, c call) {
	li := r.prog.lineAt(c.fn, c.ins.idx)
	if li == nil {
		return
	}
	s.File, s.Line, s.Source = cleanPath(li.FileName()), int(li.LineNumber()), trimSource(li.Line())
	if d := r.obj.DWARF; d != nil {
		if file, line, ok := d.Caller(c.fn.name, s.File, s.Line); ok {
			s.CallerFile, s.CallerLine = file, line
		}
		return
	}
	// Without DWARF, a call in another file than most of the function's
	// lines sits in a wrapper from a header: its caller is the last line
	// of the function's own file before it.
	own := majorityFile(r.prog.linesOf(c.fn))
	if own == "" || own == s.File {
		return
	}
	for _, lo := range r.prog.lines[c.fn.section] {
		if int(lo.Offset) >= c.fn.start && int(lo.Offset) <= c.ins.idx && cleanPath(lo.Line.FileName()) == own {
			s.CallerFile, s.CallerLine = own, int(lo.Line.LineNumber())
		}
	}
}

// majorityFile is the file most of lines come from.
func majorityFile(lines []*btf.Line) string {
	count := map[string]int{}
	best := ""
	for _, li := range lines {
		f := cleanPath(li.FileName())
		count[f]++
		if count[f] > count[best] || (count[f] == count[best] && f < best) {
			best = f
		}
	}
	return best
}

// siteWarnings are the problems of one call.
func siteWarnings(obj string, s *Site, c call, found *Found) []Warning {
	w := func(format string, a ...any) Warning {
		return Warning{Object: obj, Map: s.Map, Program: s.Program, File: s.File, Line: s.Line, Message: fmt.Sprintf(format, a...)}
	}
	var out []Warning
	where := s.Program
	switch {
	case s.Line > 0:
		where = fmt.Sprintf("%s (%s:%d)", s.Program, s.File, s.Line)
	case s.File != "":
		where = fmt.Sprintf("%s (%s)", s.Program, s.File)
	}
	switch {
	case s.Map == "":
		out = append(out, w("%s: cannot trace the map passed to bpf_%s", where, s.Helper))
	case s.Helper == HelperPerfEventOutput && s.MapType == "ringbuf":
		note := w("%s: bpf_perf_event_output on ringbuf map %s: a compat fallback the loader must remove on kernels with ringbuf", where, s.Map)
		note.Info = true
		out = append(out, note)
	case s.Helper != HelperPerfEventOutput && s.MapType != "" && s.MapType != "ringbuf":
		out = append(out, w("%s: bpf_%s on map %s of type %s, not ringbuf", where, s.Helper, s.Map, s.MapType))
	}
	if s.SizeGlobal != "" {
		note := w("%s: the size is the const volatile global %s, %d by default: user space may set it before load; the figures are the default's", where, s.SizeGlobal, *s.SizeDefault)
		note.Info = true
		out = append(out, note)
	}
	if s.SizeRelocation != "" {
		note := w("%s: the size is a CO-RE relocation (%s): libbpf rewrites it for the kernel it loads on, and %s is this build's", where, s.SizeRelocation, sizeWordsOrConst(s))
		note.Info = true
		out = append(out, note)
	}
	if s.Helper == HelperRingbufReserve && s.Dynamic() {
		out = append(out, w("%s: bpf_ringbuf_reserve needs a size the verifier knows as a constant; this one is %s", where, sizeWords(s)))
	}
	switch {
	case s.RecordsPerRing == nil || *s.RecordsPerRing > 0:
	case s.Dynamic() && s.SizeDefault == nil:
		out = append(out, w("%s: a record of up to %d bytes may not fit in ring %s of %d bytes", where, *s.RecordSize, s.Map, *s.MapSize))
	default:
		out = append(out, w("%s: a record of %d bytes does not fit in ring %s of %d bytes", where, *s.RecordSize, s.Map, *s.MapSize))
	}
	if found != nil && s.Size != nil {
		if n, err := btf.Sizeof(found.Type); err == nil && uint64(n) != *s.Size {
			out = append(out, w("%s: sends %d bytes but %s is %d bytes", where, *s.Size, s.Type, n))
		}
	}
	return out
}

// reCORE reads the kind and type of a relocation from its description:
// CORERelocation(type_size, Struct:"in6_addr"[0], local_id=10).
var reCORE = regexp.MustCompile(`^CORERelocation\((\w+), (\w+):"([^"]*)"`)

// coreWords describes a CO-RE relocation: "type_size of struct in6_addr".
func coreWords(relo *btf.CORERelocation) string {
	g := reCORE.FindStringSubmatch(relo.String())
	if g == nil {
		return relo.String()
	}
	return fmt.Sprintf("%s of %s %s", g[1], strings.ToLower(g[2]), g[3])
}

// sizeWordsOrConst describes a size.
func sizeWordsOrConst(s *Site) string {
	if s.Size != nil {
		return fmt.Sprintf("%d bytes", *s.Size)
	}
	return sizeWords(s)
}

// sizeWords describes a dynamic size.
func sizeWords(s *Site) string {
	if s.SizeMin != nil {
		return fmt.Sprintf("between %d and %d bytes", *s.SizeMin, *s.SizeMax)
	}
	return "unbounded"
}

// mapWarnings checks every ringbuf map's size as ringbuf_map_alloc does
// (kernel/bpf/ringbuf.c): a power of two and a multiple of the page size.
func mapWarnings(obj string, p *program, pageSize uint64) []Warning {
	if pageSize == 0 {
		pageSize = 4096
	}
	var out []Warning
	for _, m := range p.maps {
		if m.typ != mapRingbuf {
			continue
		}
		n := uint64(m.maxEntries)
		switch {
		case n == 0:
			out = append(out, Warning{Object: obj, Map: m.name, Info: true,
				Message: fmt.Sprintf("ringbuf %s: max_entries is not set: user space sizes it before load, so records per ring are unknown", m.name)})
		case !isPow2(n):
			out = append(out, Warning{Object: obj, Map: m.name,
				Message: fmt.Sprintf("ringbuf %s: max_entries %d is not a power of two: the kernel refuses the map", m.name, n)})
		case n%pageSize != 0:
			out = append(out, Warning{Object: obj, Map: m.name,
				Message: fmt.Sprintf("ringbuf %s: max_entries %d is not a multiple of the page size (%d bytes): the kernel refuses the map", m.name, n, pageSize)})
		}
	}
	return out
}

// cleanPath drops the "./" that -fdebug-prefix-map leaves in file names.
func cleanPath(p string) string {
	if p == "" {
		return p
	}
	return filepath.Clean(p)
}

// trimSource keeps a source line readable in one cell.
func trimSource(s string) string {
	s = normalizeSpace(s)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
