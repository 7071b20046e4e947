package btfsize

import (
	"debug/dwarf"
	"path/filepath"
)

// scope is a function whose code ends up in a BPF function: the function
// itself or one inlined into it, with where it is declared and, for an
// inlined one, where it was called from.
type scope struct {
	declFile string
	declLine int
	callFile string
	callLine int
	inlined  bool
}

// scopes returns fn and the functions inlined into it, nested ones included.
func (d *DWARF) scopes(fn string) []scope {
	var out []scope
	var walk func(e *dwEntry, depth int)
	walk = func(e *dwEntry, depth int) {
		if depth > maxDepth {
			return
		}
		for _, c := range e.children {
			switch c.Tag {
			case dwarf.TagInlinedSubroutine:
				file, line := d.declOf(c)
				out = append(out, scope{declFile: file, declLine: line, inlined: true,
					callFile: unitFile(c, c.Val(dwarf.AttrCallFile)), callLine: intVal(c.Val(dwarf.AttrCallLine))})
				walk(c, depth+1)
			case dwarf.TagLexDwarfBlock:
				walk(c, depth+1)
			}
		}
	}
	for _, sub := range d.subprogramsNamed(fn) {
		file, line := d.declOf(sub)
		out = append(out, scope{declFile: file, declLine: line})
		walk(sub, 0)
	}
	return out
}

// declOf is where the function behind e (through its abstract origin) is declared.
func (d *DWARF) declOf(e *dwEntry) (string, int) {
	origin := e
	for range maxDepth {
		if origin.Val(dwarf.AttrDeclLine) != nil {
			break
		}
		next := d.origin(origin)
		if next == nil {
			break
		}
		origin = next
	}
	return unitFile(origin, origin.Val(dwarf.AttrDeclFile)), intVal(origin.Val(dwarf.AttrDeclLine))
}

// unitFile resolves a file index of e's compilation unit.
func unitFile(e *dwEntry, v any) string {
	i, ok := v.(int64)
	if !ok || e.unit == nil || i < 0 || i >= int64(len(e.unit.files)) || e.unit.files[i] == nil {
		return ""
	}
	return filepath.Clean(e.unit.files[i].Name)
}

func intVal(v any) int {
	i, _ := v.(int64)
	return int(i)
}

// Caller returns the call site of the inlined function that holds source
// line file:line in BPF function fn: the innermost function of that file
// declared before the line. ok is false when the line is fn's own.
func (d *DWARF) Caller(fn, file string, line int) (callFile string, callLine int, ok bool) {
	var best *scope
	all := d.scopes(fn)
	for i := range all {
		s := &all[i]
		if s.declFile != file || s.declLine > line || s.declLine == 0 {
			continue
		}
		if best == nil || s.declLine > best.declLine {
			best = s
		}
	}
	if best == nil || !best.inlined || best.callLine == 0 {
		return "", 0, false
	}
	return best.callFile, best.callLine, true
}
