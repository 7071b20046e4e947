package btfsize

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Verdicts that carry no number; the others are built by the functions
// below and read like "saves 16 bytes per record".
const (
	VerdictUnchanged = "unchanged"
	VerdictAdded     = "added"
	VerdictRemoved   = "removed"
)

// Diff is what changed between two reports: every send and every type of
// either side, paired with its counterpart on the other side.
type Diff struct {
	// Version of the report format.
	Version int `json:"version"`
	// Sites are the sends, ordered by object, program, helper and map.
	Sites []SiteDiff `json:"sites"`
	// Types are the measured types, ordered by object and name.
	Types []TypeDiff `json:"types"`
}

// SiteDiff is one send before and after.
type SiteDiff struct {
	// Object is the base name of the object's path, so that old/prog.o
	// and new/prog.o pair.
	Object string `json:"object"`
	// Program, Helper and Map are the rest of the key the sides match on.
	Program string `json:"program"`
	Helper  string `json:"helper"`
	Map     string `json:"map"`
	// Type is the C name of the type sent, the new side's when there is
	// one; "" when unknown (null in JSON).
	Type string `json:"type"`
	// Old and New are the send on each side, nil on the side that lacks it.
	Old *Site `json:"old"`
	New *Site `json:"new"`
	// SizeDelta and RecordDelta are new minus old, in bytes; nil when a
	// side is missing or its size is dynamic.
	SizeDelta   *int64 `json:"size_delta"`
	RecordDelta *int64 `json:"record_delta"`
	// Verdict says in words what the change does to the record.
	Verdict string `json:"verdict"`
}

// MarshalJSON writes an unknown type as null, as Site does.
func (s SiteDiff) MarshalJSON() ([]byte, error) {
	var typ *string
	if s.Type != "" {
		typ = &s.Type
	}
	// The fields of SiteDiff in order, with the type that may be null.
	return marshal(struct {
		Object      string  `json:"object"`
		Program     string  `json:"program"`
		Helper      string  `json:"helper"`
		Map         string  `json:"map"`
		Type        *string `json:"type"`
		Old         *Site   `json:"old"`
		New         *Site   `json:"new"`
		SizeDelta   *int64  `json:"size_delta"`
		RecordDelta *int64  `json:"record_delta"`
		Verdict     string  `json:"verdict"`
	}{s.Object, s.Program, s.Helper, s.Map, typ, s.Old, s.New, s.SizeDelta, s.RecordDelta, s.Verdict})
}

// TypeDiff is one type before and after.
type TypeDiff struct {
	// Object is the base name of the input that defines the type.
	Object string `json:"object"`
	// Name in C spelling.
	Name string `json:"name"`
	// Old and New are the layout on each side, nil on the side that lacks it.
	Old *TypeInfo `json:"old"`
	New *TypeInfo `json:"new"`
	// SizeDelta and RecordDelta are new minus old, in bytes; nil when a
	// side is missing.
	SizeDelta   *int64 `json:"size_delta"`
	RecordDelta *int64 `json:"record_delta"`
	// Verdict says in words what the change does to the record.
	Verdict string `json:"verdict"`
}

// Compare pairs the sends and types of two reports. Sends match by object
// base name, program, helper and map, and several sends of one key pair in
// instruction order; types match by object base name and name. When each
// side holds one object, its name does not matter: prog-v1.o and
// prog-v2.o compare.
func Compare(old, new *Report) *Diff {
	old, new = orEmpty(old), orEmpty(new)
	d := &Diff{Version: ReportVersion, Sites: []SiteDiff{}, Types: []TypeDiff{}}
	siteObj := newObjectNames(siteObjects(old), siteObjects(new))
	for _, p := range pair(old.Sites, new.Sites, func(s *Site) string {
		return matchKey(siteObj.key(s.Object), s.Program, s.Helper, s.Map)
	}, func(a, b *Site) int { return cmp.Compare(a.Insn, b.Insn) }, func(a, b *Site) bool {
		return a.Type != "" && a.Type == b.Type
	}) {
		d.Sites = append(d.Sites, compareSites(p[0], p[1], siteObj))
	}
	typeObj := newObjectNames(typeObjects(old), typeObjects(new))
	for _, p := range pair(old.Types, new.Types, func(t *TypeInfo) string {
		return matchKey(typeObj.key(t.Object), t.Name)
	}, nil, nil) {
		d.Types = append(d.Types, compareTypes(p[0], p[1], typeObj))
	}
	return d
}

func orEmpty(r *Report) *Report {
	if r == nil {
		return &Report{}
	}
	return r
}

// matchKey joins the fields rows match on; NUL sorts before every other byte,
// so keys sort field by field.
func matchKey(fields ...string) string { return strings.Join(fields, "\x00") }

// pair matches the elements of old and new with equal keys and returns the
// pairs in key order; a missing side is nil. Within a key, elements that
// are the same (when same is set: a send of the same type) pair first, then
// the rest, the i-th on one side with the i-th on the other in the order of less.
func pair[T any](old, new []T, key func(*T) string, less func(a, b *T) int, same func(a, b *T) bool) [][2]*T {
	sides := map[string]*[2][]*T{}
	var keys []string
	add := func(list []T, side int) {
		for i := range list {
			k := key(&list[i])
			g := sides[k]
			if g == nil {
				g = &[2][]*T{}
				sides[k] = g
				keys = append(keys, k)
			}
			g[side] = append(g[side], &list[i])
		}
	}
	add(old, 0)
	add(new, 1)
	slices.Sort(keys)
	var out [][2]*T
	for _, k := range keys {
		g := sides[k]
		if less != nil {
			slices.SortStableFunc(g[0], less)
			slices.SortStableFunc(g[1], less)
		}
		out = append(out, pairGroup(g[0], g[1], same)...)
	}
	return out
}

// pairGroup pairs the elements of one key: the same ones first, in order,
// then the rest by position.
func pairGroup[T any](old, new []*T, same func(a, b *T) bool) [][2]*T {
	var out [][2]*T
	if same != nil && (len(old) > 1 || len(new) > 1) {
		usedNew := make([]bool, len(new))
		var restOld []*T
		for _, o := range old {
			j := -1
			for k, n := range new {
				if !usedNew[k] && same != nil && same(o, n) {
					j = k
					break
				}
			}
			if j < 0 {
				restOld = append(restOld, o)
				continue
			}
			usedNew[j] = true
			out = append(out, [2]*T{o, new[j]})
		}
		var restNew []*T
		for k, n := range new {
			if !usedNew[k] {
				restNew = append(restNew, n)
			}
		}
		old, new = restOld, restNew
	}
	for i := range max(len(old), len(new)) {
		var p [2]*T
		if i < len(old) {
			p[0] = old[i]
		}
		if i < len(new) {
			p[1] = new[i]
		}
		out = append(out, p)
	}
	return out
}

func siteObjects(r *Report) []string {
	var out []string
	for _, s := range r.Sites {
		out = append(out, s.Object)
	}
	return out
}

func typeObjects(r *Report) []string {
	var out []string
	for _, t := range r.Types {
		out = append(out, t.Object)
	}
	return out
}

// objectNames says how rows match and name their objects: by base name,
// or, when neither side holds more than one object, by nothing, all rows
// taking the name of the new side's object.
type objectNames struct {
	single bool
	name   string
}

func newObjectNames(old, new []string) objectNames {
	if distinct(old) > 1 || distinct(new) > 1 {
		return objectNames{}
	}
	name := ""
	switch {
	case len(new) > 0:
		name = filepath.Base(new[0])
	case len(old) > 0:
		name = filepath.Base(old[0])
	}
	return objectNames{single: true, name: name}
}

// key is the part of an object's path that rows match on.
func (o objectNames) key(path string) string {
	if o.single {
		return ""
	}
	return filepath.Base(path)
}

// display is the name a row shows for an object's path.
func (o objectNames) display(path string) string {
	if o.single {
		return o.name
	}
	return filepath.Base(path)
}

func distinct(paths []string) int {
	return len(slices.Compact(slices.Sorted(slices.Values(paths))))
}

func compareSites(o, n *Site, names objectNames) SiteDiff {
	d := SiteDiff{Old: o, New: n}
	s := n
	if s == nil {
		s = o
	}
	d.Object, d.Program, d.Helper, d.Map, d.Type = names.display(s.Object), s.Program, s.Helper, s.Map, s.Type
	if o != nil && n != nil && o.Size != nil && n.Size != nil {
		d.SizeDelta = delta(*o.Size, *n.Size)
		if o.RecordSize != nil && n.RecordSize != nil {
			d.RecordDelta = delta(*o.RecordSize, *n.RecordSize)
		}
	}
	d.Verdict = siteVerdict(o, n)
	return d
}

func compareTypes(o, n *TypeInfo, names objectNames) TypeDiff {
	d := TypeDiff{Old: o, New: n}
	t := n
	if t == nil {
		t = o
	}
	d.Object, d.Name = names.display(t.Object), t.Name
	if o != nil && n != nil {
		d.SizeDelta = delta(o.Size, n.Size)
		d.RecordDelta = delta(o.RecordSize, n.RecordSize)
	}
	d.Verdict = typeVerdict(o, n)
	return d
}

func delta(old, new uint64) *int64 {
	d := int64(new) - int64(old)
	return &d
}

// change is what happened to a record, for the gate and the summary.
type change int

const (
	changeNone    change = iota // the record is the same
	changeSaved                 // the record, or its bound, shrank
	changeGrown                 // the record, or its bound, grew, or lost its bound
	changeAdded                 // only on the new side
	changeRemoved               // only on the old side
	changeOther                 // the size became constant or dynamic, the record did not grow
)

// recordChange compares two records in bytes, nil being unbounded, and
// returns what happened and by how many bytes.
func recordChange(old, new *uint64) (change, uint64) {
	switch {
	case old == nil && new == nil:
		return changeNone, 0
	case new == nil:
		return changeGrown, 0
	case old == nil:
		return changeOther, 0
	case *new > *old:
		return changeGrown, *new - *old
	case *new < *old:
		return changeSaved, *old - *new
	}
	return changeNone, 0
}

func (s *SiteDiff) change() (change, uint64) {
	switch {
	case s.Old == nil:
		return changeAdded, 0
	case s.New == nil:
		return changeRemoved, 0
	}
	c, n := recordChange(s.Old.RecordSize, s.New.RecordSize)
	if c == changeNone && s.Old.Dynamic() != s.New.Dynamic() {
		c = changeOther
	}
	return c, n
}

func (t *TypeDiff) change() (change, uint64) {
	switch {
	case t.Old == nil:
		return changeAdded, 0
	case t.New == nil:
		return changeRemoved, 0
	}
	return recordChange(&t.Old.RecordSize, &t.New.RecordSize)
}

// Grew reports whether a record of the send can now be larger than before:
// its record grew, or its dynamic size lost its bound.
func (s *SiteDiff) Grew() bool { c, _ := s.change(); return c == changeGrown }

// Grew reports whether the type's record grew.
func (t *TypeDiff) Grew() bool { c, _ := t.change(); return c == changeGrown }

// Grown returns the sends and the types whose records grew, for
// --fail-on-growth.
func (d *Diff) Grown() ([]SiteDiff, []TypeDiff) {
	var sites []SiteDiff
	var types []TypeDiff
	for _, s := range d.Sites {
		if s.Grew() {
			sites = append(sites, s)
		}
	}
	for _, t := range d.Types {
		if t.Grew() {
			types = append(types, t)
		}
	}
	return sites, types
}

// siteVerdict says what happened to one send.
func siteVerdict(o, n *Site) string {
	switch {
	case o == nil:
		return VerdictAdded
	case n == nil:
		return VerdictRemoved
	case !o.Dynamic() && !n.Dynamic() && o.RecordSize != nil && n.RecordSize != nil:
		v := sizeVerdict(*o.Size, *n.Size, *o.RecordSize, *n.RecordSize)
		if v == VerdictUnchanged && o.RecordsPerRing != nil && n.RecordsPerRing != nil && *o.RecordsPerRing != *n.RecordsPerRing {
			return fmt.Sprintf("per ring %d → %d, record unchanged (%s)", *o.RecordsPerRing, *n.RecordsPerRing, byteCount(*n.RecordSize))
		}
		return v
	case !o.Dynamic() && n.Dynamic():
		if n.RecordSize == nil {
			return "size now dynamic and unbounded"
		}
		return fmt.Sprintf("size now dynamic (up to %s per record)", byteCount(*n.RecordSize))
	case o.Dynamic() && !n.Dynamic() && n.RecordSize != nil:
		return fmt.Sprintf("size now constant (%s per record)", byteCount(*n.RecordSize))
	}
	return dynamicVerdict(o, n)
}

// dynamicVerdict compares two dynamic sizes by the bound of their records.
func dynamicVerdict(o, n *Site) string {
	c, by := recordChange(o.RecordSize, n.RecordSize)
	switch c {
	case changeGrown:
		if n.RecordSize == nil {
			return "dynamic, now unbounded"
		}
		return fmt.Sprintf("dynamic, grows by %s per record (up to %s)", byteCount(by), byteCount(*n.RecordSize))
	case changeSaved:
		return fmt.Sprintf("dynamic, saves %s per record (up to %s)", byteCount(by), byteCount(*n.RecordSize))
	case changeOther:
		return fmt.Sprintf("dynamic, now up to %s per record", byteCount(*n.RecordSize))
	}
	if n.RecordSize != nil && (!equalPtr(o.SizeMin, n.SizeMin) || !equalPtr(o.SizeMax, n.SizeMax)) {
		return fmt.Sprintf("dynamic bounds changed, record unchanged (up to %s)", byteCount(*n.RecordSize))
	}
	return VerdictUnchanged
}

func equalPtr(a, b *uint64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// typeVerdict says what happened to one type.
func typeVerdict(o, n *TypeInfo) string {
	switch {
	case o == nil:
		return VerdictAdded
	case n == nil:
		return VerdictRemoved
	}
	return sizeVerdict(o.Size, n.Size, o.RecordSize, n.RecordSize)
}

// sizeVerdict compares two constant payloads, in bytes, by their records
// first: a smaller struct whose record stays the same saves nothing.
func sizeVerdict(oldSize, newSize, oldRecord, newRecord uint64) string {
	switch {
	case newRecord < oldRecord:
		return fmt.Sprintf("saves %s per record", byteCount(oldRecord-newRecord))
	case newRecord > oldRecord:
		return fmt.Sprintf("grows by %s per record", byteCount(newRecord-oldRecord))
	case newSize != oldSize:
		sign, by := "+", newSize-oldSize
		if newSize < oldSize {
			sign, by = "-", oldSize-newSize
		}
		return fmt.Sprintf("payload %s%s, record unchanged (%s)", sign, byteCount(by), byteCount(newRecord))
	}
	return VerdictUnchanged
}

// byteCount is "1 byte" or "16 bytes".
func byteCount(n uint64) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// Summary is one line on the diff, about its sends, or its types when
// neither side sends anything: "1 send saves 16 bytes per record, 0 grow,
// 3 unchanged". A payload that changes inside the same record counts as
// unchanged.
func (d *Diff) Summary() string {
	var t tally
	noun := "send"
	switch {
	case len(d.Sites) > 0:
		for i := range d.Sites {
			t.add(d.Sites[i].change())
		}
	case len(d.Types) > 0:
		noun = "type"
		for i := range d.Types {
			t.add(d.Types[i].change())
		}
	default:
		return "no sends and no types on either side"
	}
	return t.String(noun)
}

// tally counts the rows of a diff by change, with the range of bytes per
// record that the saving and the growing rows move.
type tally struct {
	n            [changeOther + 1]int
	saved, grown span
}

// span is the smallest and largest of some byte counts.
type span struct{ min, max uint64 }

func (s *span) add(n uint64) {
	if n == 0 {
		return
	}
	if s.min == 0 || n < s.min {
		s.min = n
	}
	s.max = max(s.max, n)
}

func (s span) String() string {
	switch {
	case s.max == 0:
		return ""
	case s.min == s.max:
		return fmt.Sprintf(" %s per record", byteCount(s.max))
	}
	return fmt.Sprintf(" %d to %s per record", s.min, byteCount(s.max))
}

func (t *tally) add(c change, by uint64) {
	t.n[c]++
	switch c {
	case changeSaved:
		t.saved.add(by)
	case changeGrown:
		t.grown.add(by)
	}
}

func (t *tally) String(noun string) string {
	var parts []string
	switch n := t.n[changeSaved]; n {
	case 0:
		parts = append(parts, fmt.Sprintf("0 %ss save", noun))
	case 1:
		parts = append(parts, fmt.Sprintf("1 %s saves%s", noun, t.saved))
	default:
		parts = append(parts, fmt.Sprintf("%d %ss save%s", n, noun, t.saved))
	}
	switch n := t.n[changeGrown]; n {
	case 0:
		parts = append(parts, "0 grow")
	case 1:
		parts = append(parts, "1 grows"+by(t.grown))
	default:
		parts = append(parts, fmt.Sprintf("%d grow%s", n, by(t.grown)))
	}
	parts = append(parts, fmt.Sprintf("%d unchanged", t.n[changeNone]))
	for _, c := range []struct {
		change
		word string
	}{{changeOther, "changed"}, {changeAdded, "added"}, {changeRemoved, "removed"}} {
		if t.n[c.change] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", t.n[c.change], c.word))
		}
	}
	return strings.Join(parts, ", ")
}

// by puts "by" before the bytes a growth moves, when they are known.
func by(s span) string {
	if t := s.String(); t != "" {
		return " by" + t
	}
	return ""
}
