package btfsize

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// resolver names the type a call sends, from the strongest evidence available.
type resolver struct {
	obj     *Object
	prog    *program
	headers []*Object
	bySize  map[uint64][]Found // lazily built index for the size match
	near    map[callKey][]string
	named   map[callKey]string // lineTypeName of each call
}

// callKey identifies a call for the resolver's caches.
type callKey struct {
	fn  *function
	idx int
}

// hintNoType tells users how to let btfsize name the type.
const hintNoType = "name the type: declare __type(value, struct event) on the ringbuf map, keep DWARF (-g), or pass the header with --header"

// resolve sets s.Type and s.TypeSource and returns the type when its layout is known.
func (r *resolver) resolve(s *Site, c call, regs args) *Found {
	steps := []func(*Site, call, args) (*Found, string){r.byDWARF, r.byMap, r.byLine, r.byHeader}
	for _, step := range steps {
		if f, src := step(s, c, regs); f != nil {
			s.Candidates = nil
			s.Type, s.TypeSource = displayName(f.Type), src
			return f
		}
	}
	if name := r.lineTypeName(c); name != "" {
		// The source names a type no input defines: report the name.
		s.Type, s.TypeSource = name, SourceLine
		s.Hint = fmt.Sprintf("%s has no layout in %s: keep DWARF (-g) or pass the header with --header", name, r.obj.Path)
		return nil
	}
	s.TypeSource = SourceNone
	s.Hint = hintNoType
	if len(s.Candidates) > 0 {
		slices.Sort(s.Candidates)
		s.Hint = fmt.Sprintf("variables of %d types share the stack slot sent; %s", len(s.Candidates), hintNoType)
		return nil
	}
	if s.Size == nil {
		return nil
	}
	cands := r.ofSize(*s.Size)
	switch len(cands) {
	case 0:
	case 1:
		s.Type, s.TypeSource, s.Hint = displayName(cands[0].Type), SourceSize, ""
		return &cands[0]
	default:
		for _, f := range cands {
			s.Candidates = append(s.Candidates, displayName(f.Type))
		}
		slices.Sort(s.Candidates)
		s.Candidates = slices.Compact(s.Candidates)
		s.Hint = fmt.Sprintf("%d types are %d bytes, so the size does not say which is sent; %s", len(s.Candidates), *s.Size, hintNoType)
	}
	return nil
}

// displayName is the typedef name for a typedef, else the C name.
func displayName(t btf.Type) string {
	if td, ok := t.(*btf.Typedef); ok {
		return td.Name
	}
	return TypeName(t)
}

// composite follows pointers once when deref is set, and returns the struct
// or union (behind typedefs) that t names, keeping a typedef's name.
func composite(t btf.Type, deref bool) (btf.Type, bool) {
	if deref {
		p, ok := btf.UnderlyingType(t).(*btf.Pointer)
		if !ok {
			return nil, false
		}
		t = p.Target
	}
	t = unqualified(t, false)
	if _, ok := Composite(t); !ok {
		return nil, false
	}
	return t, true
}

// byDWARF follows the data pointer back to a variable: a stack buffer, a
// typed parameter, or the variable the source line names.
func (r *resolver) byDWARF(s *Site, c call, regs args) (*Found, string) {
	d := r.obj.DWARF
	var data value
	if regs.dataReg != 0 {
		data = c.st.regs[regs.dataReg]
	}
	vars := r.lineVars(c, s.Helper)
	switch {
	case d != nil && data.kind == vStack:
		// Variables with disjoint lifetimes may share a stack slot: the
		// one at the address must also fit the size and, when the line
		// names the buffer, be that variable.
		names, types := d.StackVarsAt(c.fn.name, data.off)
		var fits []btf.Type
		for i, t := range types {
			named := len(vars) == 0 || slices.ContainsFunc(vars, func(v lineVar) bool { return v.name == names[i] })
			if t, ok := composite(t, false); ok && named && sizeFits(t, s) {
				fits = append(fits, t)
			}
		}
		switch {
		case len(fits) == 1:
			return r.found(fits[0], d), SourceDWARF
		case len(fits) > 1:
			// The slot holds one of several variables: say so, never guess.
			for _, t := range fits {
				s.Candidates = append(s.Candidates, displayName(t))
			}
			return nil, ""
		}
	case data.kind == vArg && data.off == 0:
		if f, src := r.byParam(c.fn, data.n); f != nil {
			return f, src
		}
	}
	if d == nil {
		return nil, ""
	}
	for _, v := range vars {
		for _, t := range d.Vars(c.fn.name, v.name) {
			if t, ok := composite(t, v.deref); ok {
				return r.found(t, d), SourceDWARF
			}
		}
	}
	return nil, ""
}

// byParam names the type of pointer parameter n (1-based) of fn from DWARF,
// else from the function's BTF prototype.
func (r *resolver) byParam(fn *function, n int) (*Found, string) {
	if fn.proto == nil || n < 1 || n > len(fn.proto.Params) {
		return nil, ""
	}
	p := fn.proto.Params[n-1]
	if d := r.obj.DWARF; d != nil {
		for _, t := range d.Vars(fn.name, p.Name) {
			if t, ok := composite(t, true); ok {
				return r.found(t, d), SourceDWARF
			}
		}
	}
	if t, ok := composite(p.Type, true); ok {
		return &Found{Type: t, Source: "btf", Object: r.obj.Path}, SourceBTF
	}
	return nil, ""
}

func (r *resolver) found(t btf.Type, d *DWARF) *Found {
	return &Found{Type: t, Source: r.obj.source(), Object: r.obj.Path, dwarf: d}
}

// byMap uses the value type of the ringbuf map, or of the map whose value
// the data pointer points into (a per-CPU scratch buffer), when sizes agree.
func (r *resolver) byMap(s *Site, c call, regs args) (*Found, string) {
	var m *mapDef
	if regs.dataReg != 0 {
		if v := c.st.regs[regs.dataReg]; v.kind == vMapValue && v.off == 0 && v.m.value != nil {
			// The data is the start of a map value: a scratch buffer of
			// that type, sent whole or in part.
			if t, ok := composite(v.m.value, false); ok && (s.Size == nil || sizeFits(t, s)) {
				return r.preferDWARF(t), SourceMap
			}
		}
	}
	if m == nil {
		if v := c.st.regs[regs.mapReg]; v.kind == vMap && v.m.typ == mapRingbuf {
			m = v.m
		}
	}
	if m == nil || m.value == nil {
		return nil, ""
	}
	t, ok := composite(m.value, false)
	if !ok || !sizeFits(t, s) {
		return nil, ""
	}
	return r.preferDWARF(t), SourceMap
}

// preferDWARF swaps a BTF type for its DWARF twin, which knows explicit alignments.
func (r *resolver) preferDWARF(t btf.Type) *Found {
	if d := r.obj.DWARF; d != nil {
		for _, dt := range d.TypesByName(t.TypeName()) {
			if typeKey(dt) == typeKey(t) {
				return r.found(dt, d)
			}
		}
	}
	return &Found{Type: t, Source: "btf", Object: r.obj.Path}
}

// sizeFits reports whether t's size agrees with the size the call sends.
func sizeFits(t btf.Type, s *Site) bool {
	n, err := btf.Sizeof(t)
	if err != nil {
		return false
	}
	switch {
	case s.Size != nil:
		return uint64(n) == *s.Size
	case s.SizeMax != nil:
		return uint64(n) <= *s.SizeMax
	}
	return true
}

var (
	reSizeofType  = regexp.MustCompile(`sizeof\s*\(\s*((?:struct|union)\s+\w+|\w+)\s*\)`)
	reSizeofDeref = regexp.MustCompile(`sizeof\s*\(\s*\*\s*(\w+)\s*\)`)
	reAssign      = regexp.MustCompile(`(\w+)\s*=\s*(?:\([^)]*\)\s*)?bpf_ringbuf_reserve\s*\(`)
	reDataArg     = map[string]*regexp.Regexp{
		HelperRingbufOutput:   regexp.MustCompile(`bpf_ringbuf_output\s*\(\s*[^,]+,\s*(&?)\s*(\w+)\s*,`),
		HelperPerfEventOutput: regexp.MustCompile(`bpf_perf_event_output\s*\([^,]+,[^,]+,[^,]+,\s*(&?)\s*(\w+)\s*,`),
	}
	cKeywords = []string{"return", "if", "else", "while", "for", "sizeof", "goto", "case", "do", "switch", "const", "volatile", "static"}
)

// lineVar is a variable a source line names: the record (deref: through a
// pointer) or the buffer itself.
type lineVar struct {
	name  string
	deref bool
}

// nearLines are the source lines around a call: its own line first, then the
// lines before it in the function, nearest first (a call split over lines,
// or a size computed just before).
func (r *resolver) nearLines(c call) []string {
	return memo(&r.near, c, r.readNearLines)
}

func (r *resolver) readNearLines(c call) []string {
	var out []string
	var prev *btf.Line
	for _, lo := range r.prog.lines[c.fn.section] {
		off := int(lo.Offset)
		if off < c.fn.start || off > c.ins.idx {
			continue
		}
		if prev == nil || lo.Line.Line() != prev.Line() {
			out = append(out, lo.Line.Line())
		}
		prev = lo.Line
	}
	slices.Reverse(out)
	return out[:min(len(out), 4)]
}

// helperCNames are the helpers as C source calls them.
var helperCNames = map[string]string{
	HelperRingbufOutput:        "bpf_ringbuf_output",
	HelperRingbufReserve:       "bpf_ringbuf_reserve",
	HelperRingbufReserveDynptr: "bpf_ringbuf_reserve_dynptr",
	HelperPerfEventOutput:      "bpf_perf_event_output",
}

// statement is the source of the call's statement: its own line, and the
// lines before it up to the one that names the helper when the call spans
// several. Earlier statements say nothing about this call.
func (r *resolver) statement(c call) []string {
	if li := r.prog.lineAt(c.fn, c.ins.idx); li == nil || li.LineNumber() == 0 {
		// Code merged from several statements belongs to none of them.
		return nil
	}
	lines := r.nearLines(c)
	name := helperCNames[helperNames[c.ins.Constant]]
	for i, text := range lines {
		if strings.Contains(text, name) {
			return lines[:i+1]
		}
	}
	return lines[:min(1, len(lines))]
}

// lineVars are the variables the call's statement names as the record.
func (r *resolver) lineVars(c call, helper string) []lineVar {
	var out []lineVar
	for _, text := range r.statement(c) {
		if m := reDataArg[helper]; m != nil {
			if g := m.FindStringSubmatch(text); g != nil {
				out = append(out, lineVar{g[2], g[1] == ""})
			}
		}
		if g := reAssign.FindStringSubmatch(text); g != nil {
			out = append(out, lineVar{g[1], true})
		}
		if g := reSizeofDeref.FindStringSubmatch(text); g != nil {
			out = append(out, lineVar{g[1], true})
		}
		if g := reSizeofType.FindStringSubmatch(text); g != nil && !isTypeWord(g[1]) {
			out = append(out, lineVar{g[1], false})
		}
	}
	return out
}

func isTypeWord(s string) bool {
	return strings.HasPrefix(s, "struct ") || strings.HasPrefix(s, "union ")
}

// lineTypeName is the C type the call's source names: sizeof(struct x),
// sizeof(x_t), or the declaration of the variable in sizeof(*e) / sizeof(e).
func (r *resolver) lineTypeName(c call) string {
	return memo(&r.named, c, r.readLineTypeName)
}

// memo caches f(c) in *m: several evidence steps ask the same of a call.
func memo[V any](m *map[callKey]V, c call, f func(call) V) V {
	k := callKey{c.fn, c.ins.idx}
	if v, ok := (*m)[k]; ok {
		return v
	}
	if *m == nil {
		*m = map[callKey]V{}
	}
	v := f(c)
	(*m)[k] = v
	return v
}

func (r *resolver) readLineTypeName(c call) string {
	for _, text := range r.statement(c) {
		if g := reSizeofType.FindStringSubmatch(text); g != nil && (isTypeWord(g[1]) || r.isTypedef(g[1])) {
			return normalizeSpace(g[1])
		}
	}
	for _, v := range r.lineVars(c, "") {
		if t := r.declaredType(c.fn, v); t != "" {
			return t
		}
	}
	return ""
}

// isTypedef reports whether name is a type in any input rather than a variable.
func (r *resolver) isTypedef(name string) bool {
	if len(r.obj.Lookup(name)) > 0 {
		return true
	}
	for _, h := range r.headers {
		if len(h.Lookup(name)) > 0 {
			return true
		}
	}
	return false
}

// declaredType finds `struct x *e` or `x_t e` in the lines of fn.
func (r *resolver) declaredType(fn *function, v lineVar) string {
	star := `\s*`
	if v.deref {
		star = `\s*\*\s*`
	}
	re := regexp.MustCompile(`((?:struct|union)\s+\w+|\w+)` + star + `\b` + regexp.QuoteMeta(v.name) + `\b\s*[;=,)\[]`)
	for _, li := range r.prog.linesOf(fn) {
		for _, g := range re.FindAllStringSubmatch(li.Line(), -1) {
			if name := normalizeSpace(g[1]); !slices.Contains(cKeywords, name) && r.maybeComposite(name) {
				return name
			}
		}
	}
	return ""
}

// reScalarName matches the integer typedefs of kernel and C headers.
var reScalarName = regexp.MustCompile(`^(__)?[us](8|16|32|64)$|^u?int(8|16|32|64)_t$|^s?size_t$|^uintptr_t$|^__(be|le)(16|32|64)$`)

// scalarNames are C's own type words.
var scalarNames = strings.Fields("void char short int long unsigned signed float double _Bool bool")

// maybeComposite reports whether a declared type name may be a struct or
// union: a struct or union tag, or a typedef that no input says is
// something else.
func (r *resolver) maybeComposite(name string) bool {
	if isTypeWord(name) {
		return true
	}
	if slices.Contains(scalarNames, name) || reScalarName.MatchString(name) {
		return false
	}
	if spec, _ := r.obj.Spec(); spec != nil {
		types, _ := spec.AnyTypesByName(name)
		for _, t := range types {
			if _, ok := Composite(t); !ok {
				return false
			}
		}
	}
	return true
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// byLine names the type from the source line and finds its layout in the object.
func (r *resolver) byLine(s *Site, c call, _ args) (*Found, string) {
	name := r.lineTypeName(c)
	if name == "" {
		return nil, ""
	}
	for _, f := range r.obj.Lookup(name) {
		if t, ok := composite(f.Type, false); ok && sizeFits(t, s) {
			f.Type = t
			return &f, SourceLine
		}
	}
	return nil, ""
}

// byHeader names the type from headers given on the command line by the
// name in the source line; a header type of the right size is only a
// candidate of the size match.
func (r *resolver) byHeader(s *Site, c call, _ args) (*Found, string) {
	if len(r.headers) == 0 {
		return nil, ""
	}
	if name := r.lineTypeName(c); name != "" {
		for _, h := range r.headers {
			for _, f := range h.Lookup(name) {
				if sizeFits(f.Type, s) {
					return &f, SourceHeader
				}
			}
		}
	}
	return nil, ""
}

// ofSize returns the named types of the object of exactly size bytes, one per
// underlying struct or union.
// The headers' types count too: a header type is a candidate, not evidence.
func (r *resolver) ofSize(size uint64) []Found {
	if r.bySize == nil {
		r.bySize = map[uint64][]Found{}
		all, _ := r.obj.All(false)
		for _, h := range r.headers {
			defined, _ := h.All(true)
			all = append(all, defined...)
		}
		for _, f := range all {
			if n, err := btf.Sizeof(f.Type); err == nil {
				r.bySize[uint64(n)] = append(r.bySize[uint64(n)], f)
			}
		}
	}
	return uniqueComposites(r.bySize[size])
}

// uniqueComposites drops typedefs of a struct also in the list, and
// duplicates of one struct from BTF and DWARF.
func uniqueComposites(fs []Found) []Found {
	var out []Found
	seen := map[string]bool{}
	for _, f := range fs {
		c, _ := Composite(f.Type)
		k := typeKey(c)
		if c.TypeName() == "" {
			k = typeKey(f.Type)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
