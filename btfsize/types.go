package btfsize

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// ErrTypeNotFound is returned when a requested type is in no input.
var ErrTypeNotFound = errors.New("type not found")

// Found is a type found in an input, with where its layout comes from.
type Found struct {
	Type btf.Type
	// Source is "btf", "dwarf" or "header".
	Source string
	// Object is the input path.
	Object string
	// dwarf supplies explicit alignments for DWARF and header types.
	dwarf *DWARF
}

// Layout measures the found type.
func (f Found) Layout() (*Layout, error) {
	var al Aligner
	if f.dwarf != nil {
		al = f.dwarf
	}
	return Measure(f.Type, al)
}

// Info measures the found type and returns its report form.
func (f Found) Info(hdr uint64) (TypeInfo, error) {
	l, err := f.Layout()
	if err != nil {
		return TypeInfo{}, err
	}
	ti := l.Info(hdr)
	ti.Object, ti.Source = f.Object, f.Source
	if f.dwarf != nil {
		if file, line, ok := f.dwarf.Decl(f.Type); ok {
			ti.File, ti.Line = file, line
		}
	}
	return ti, nil
}

// typeKey identifies a type across BTF and DWARF: kind, name and size.
func typeKey(t btf.Type) string {
	n, _ := btf.Sizeof(t)
	return fmt.Sprintf("%s %s %d", kindOf(t), t.TypeName(), n)
}

// reportable reports whether t is a named struct or union, or a typedef of one.
func reportable(t btf.Type) bool {
	if t.TypeName() == "" {
		return false
	}
	_, ok := Composite(t)
	return ok
}

func (o *Object) source() string {
	if o.Kind == KindHeader {
		return "header"
	}
	return "dwarf"
}

// Lookup returns the struct, union and typedef types named name ("event",
// "struct event" or "event_t"), from DWARF first: it records explicit
// alignments that BTF cannot.
func (o *Object) Lookup(name string) []Found {
	kind, bare := splitKind(name)
	match := func(t btf.Type) bool { return reportable(t) && (kind == "" || kindOf(t) == kind) }
	var out []Found
	dwarfKeys := map[string]bool{}
	if o.DWARF != nil {
		for _, t := range o.DWARF.TypesByName(bare) {
			if match(t) && !dwarfKeys[typeKey(t)] {
				dwarfKeys[typeKey(t)] = true
				out = append(out, Found{Type: t, Source: o.source(), Object: o.Path, dwarf: o.DWARF})
			}
		}
	}
	if spec, _ := o.Spec(); spec != nil {
		// BTF may hold distinct types of one name and size (vmlinux
		// compilation units): keep each, but not the twin of a DWARF type.
		types, _ := spec.AnyTypesByName(bare)
		for _, t := range types {
			if match(t) && !dwarfKeys[typeKey(t)] {
				out = append(out, Found{Type: t, Source: "btf", Object: o.Path})
			}
		}
	}
	return out
}

// All returns every named struct and union (and typedef of one) of o.
// With defined set, only those an object or header defines itself: for a
// header, not those of system includes; for an object with DWARF, those of
// its own sources.
func (o *Object) All(defined bool) ([]Found, error) {
	var out []Found
	seen := map[string]bool{}
	if o.DWARF != nil {
		for _, t := range o.DWARF.Types() {
			if !reportable(t) || seen[typeKey(t)] {
				continue
			}
			if file, _, ok := o.DWARF.Decl(t); defined && ok && systemHeader(file) {
				continue
			}
			seen[typeKey(t)] = true
			out = append(out, Found{Type: t, Source: o.source(), Object: o.Path, dwarf: o.DWARF})
		}
	}
	spec, err := o.Spec()
	if err != nil {
		return nil, err
	}
	if spec == nil || (defined && o.DWARF != nil) {
		return out, nil
	}
	for t, err := range spec.All() {
		if err != nil {
			return nil, fmt.Errorf("btf: %w", err)
		}
		if _, td := t.(*btf.Typedef); td && defined {
			continue
		}
		if !reportable(t) || seen[typeKey(t)] {
			continue
		}
		seen[typeKey(t)] = true
		out = append(out, Found{Type: t, Source: "btf", Object: o.Path})
	}
	return out, nil
}

// Select returns the types m selects. Literal names are looked up without
// decoding every type; globs walk them all. A literal name found nowhere is
// an error that suggests close names.
func (o *Object) Select(m *Matcher) ([]Found, error) {
	if _, err := o.Spec(); err != nil {
		return nil, err
	}
	if names, ok := m.Literals(); ok {
		var out []Found
		for i, name := range names {
			found := o.Lookup(m.Patterns()[i])
			if len(found) == 0 {
				return nil, o.notFound(m.Patterns()[i], name)
			}
			out = append(out, found...)
		}
		return out, nil
	}
	all, err := o.All(false)
	if err != nil {
		return nil, err
	}
	var out []Found
	for _, f := range all {
		if m.Match(f.Type) {
			out = append(out, f)
		}
	}
	// Every pattern must select something, a name among globs too.
	for _, p := range m.Patterns() {
		one := &Matcher{patterns: []pattern{splitPattern(p)}}
		if !slices.ContainsFunc(out, func(f Found) bool { return one.Match(f.Type) }) {
			_, bare := splitKind(p)
			return nil, o.notFound(p, bare)
		}
	}
	return out, nil
}

func (o *Object) notFound(pattern, name string) error {
	if spec, _ := o.Spec(); spec != nil {
		// Enums, unions of scalars and base types exist but are not measured.
		if types, err := spec.AnyTypesByName(name); err == nil && len(types) > 0 {
			if _, ok := Composite(types[0]); !ok {
				return fmt.Errorf("%s: not a struct or union; btfsize measures structs and unions", TypeName(types[0]))
			}
		}
	}
	var names []string
	all, _ := o.All(false)
	for _, f := range all {
		names = append(names, f.Type.TypeName())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if s := suggest(name, names); len(s) > 0 {
		return fmt.Errorf("%w: %s (did you mean %s?)", ErrTypeNotFound, pattern, strings.Join(s, ", "))
	}
	return fmt.Errorf("%w: %s", ErrTypeNotFound, pattern)
}
