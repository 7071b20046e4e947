package btfsize

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/cilium/ebpf/btf"
)

// TypeName spells t as C does: "struct event", "union u", "enum e", a typedef
// or base type name, "char [16]" for an array, "struct event *" for a pointer.
func TypeName(t btf.Type) string {
	return typeName(t, 0)
}

func typeName(t btf.Type, depth int) string {
	if depth > maxDepth {
		return "…"
	}
	switch t := t.(type) {
	case nil:
		return "void"
	case *btf.Void:
		return "void"
	case *btf.Struct:
		return tagged("struct", t.Name)
	case *btf.Union:
		return tagged("union", t.Name)
	case *btf.Enum:
		return tagged("enum", t.Name)
	case *btf.Fwd:
		kind := "struct"
		if t.Kind == btf.FwdUnion {
			kind = "union"
		}
		return tagged(kind, t.Name)
	case *btf.Pointer:
		return typeName(t.Target, depth+1) + " *"
	case *btf.Array:
		elem, dims := t.Type, fmt.Sprintf("[%d]", t.Nelems)
		for {
			inner, ok := elem.(*btf.Array)
			if !ok || depth > maxDepth {
				break
			}
			dims += fmt.Sprintf("[%d]", inner.Nelems)
			elem = inner.Type
			depth++
		}
		return typeName(elem, depth+1) + " " + dims
	case *btf.Const:
		return "const " + typeName(t.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + typeName(t.Type, depth+1)
	case *btf.Restrict:
		return typeName(t.Type, depth+1) + " restrict"
	case *btf.TypeTag:
		return typeName(t.Type, depth+1)
	case *btf.FuncProto:
		return "fn"
	}
	if name := t.TypeName(); name != "" {
		return name
	}
	return "<anon>"
}

func tagged(kind, name string) string {
	if name == "" {
		return kind + " <anon>"
	}
	return kind + " " + name
}

// Matcher selects types by the names users write: "event", "struct event",
// "event_t", and shell globs such as "sock*" or "struct *_event".
type Matcher struct {
	patterns []pattern
}

type pattern struct {
	kind string // "struct", "union", "enum" or "" for any
	glob string
}

// NewMatcher parses patterns; each may hold a comma-separated list.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for _, list := range patterns {
		for _, p := range strings.Split(list, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			pt := splitPattern(p)
			if _, err := path.Match(pt.glob, ""); err != nil {
				return nil, fmt.Errorf("type pattern %q: %w", p, err)
			}
			m.patterns = append(m.patterns, pt)
		}
	}
	return m, nil
}

func splitPattern(p string) pattern {
	kind, glob := splitKind(p)
	return pattern{kind, glob}
}

// splitKind splits "struct event" into ("struct", "event").
func splitKind(s string) (kind, name string) {
	for _, k := range []string{"struct", "union", "enum"} {
		if rest, ok := strings.CutPrefix(s, k+" "); ok {
			return k, strings.TrimSpace(rest)
		}
	}
	return "", s
}

// Empty reports whether m has no patterns.
func (m *Matcher) Empty() bool { return m == nil || len(m.patterns) == 0 }

// Literals returns the patterns without glob characters, as bare names, for
// lookups by name that need not decode every type.
func (m *Matcher) Literals() (names []string, ok bool) {
	for _, p := range m.patterns {
		if strings.ContainsAny(p.glob, "*?[\\") {
			return nil, false
		}
		names = append(names, p.glob)
	}
	return names, true
}

// Patterns returns the patterns as the user wrote them, normalised.
func (m *Matcher) Patterns() []string {
	var out []string
	for _, p := range m.patterns {
		if p.kind != "" {
			out = append(out, p.kind+" "+p.glob)
		} else {
			out = append(out, p.glob)
		}
	}
	return out
}

// Match reports whether t, a named struct, union, enum or typedef, is selected.
func (m *Matcher) Match(t btf.Type) bool {
	return m.matchName(kindOf(t), t.TypeName(), nil)
}

// matchName reports whether a type of kind (as kindOf names it) and name is
// selected, and marks in hits, when given, the patterns that select it.
func (m *Matcher) matchName(kind, name string, hits []atomic.Bool) bool {
	if name == "" {
		return false
	}
	matched := false
	for i, p := range m.patterns {
		if p.kind != "" && p.kind != kind {
			continue
		}
		if ok, _ := path.Match(p.glob, name); ok {
			if hits == nil {
				return true
			}
			hits[i].Store(true)
			matched = true
		}
	}
	return matched
}

// kindOf is "struct", "union", "enum" or "typedef".
func kindOf(t btf.Type) string {
	switch t := t.(type) {
	case *btf.Struct:
		return "struct"
	case *btf.Union:
		return "union"
	case *btf.Enum:
		return "enum"
	case *btf.Fwd:
		if t.Kind == btf.FwdUnion {
			return "union"
		}
		return "struct"
	case *btf.Typedef:
		return "typedef"
	}
	return ""
}

// suggest returns up to three names from candidates close to name.
func suggest(name string, candidates []string) []string {
	type scored struct {
		name string
		d    int
	}
	var best []scored
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d <= limit || (len(name) >= 3 && strings.Contains(strings.ToLower(c), strings.ToLower(name))) {
			best = append(best, scored{c, d})
		}
	}
	sortBy(best, func(a, b scored) bool {
		if a.d != b.d {
			return a.d < b.d
		}
		return a.name < b.name
	})
	var out []string
	for i := 0; i < len(best) && len(out) < 3; i++ {
		if i == 0 || best[i].name != best[i-1].name {
			out = append(out, best[i].name)
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortBy[T any](s []T, less func(a, b T) bool) {
	slices.SortStableFunc(s, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}
