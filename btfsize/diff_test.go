package btfsize

import (
	"encoding/json"
	"strings"
	"testing"
)

func pu64(n uint64) *uint64 { return &n }

func pi64(n int64) *int64 { return &n }

// constSite is a bpf_ringbuf_output of size bytes by prog.o's program p
// to the 256 KiB ring "events", with the figures Object.Report computes.
func constSite(p string, size uint64) *Site {
	s := &Site{Object: "prog.o", Program: p, Helper: HelperRingbufOutput, Map: "events",
		MapSize: pu64(256 * 1024), Size: pu64(size), Type: "struct event"}
	s.RecordSize = pu64(RecordSize(size, HeaderSize))
	s.RecordsPerRing = pu64(RecordsPerRing(*s.MapSize, *s.RecordSize))
	return s
}

// dynSite is a send whose size is bounded by max bytes, or unbounded when
// max is nil.
func dynSite(p string, max *uint64) *Site {
	s := &Site{Object: "prog.o", Program: p, Helper: HelperRingbufOutput, Map: "events",
		MapSize: pu64(256 * 1024), Type: "struct event"}
	if max != nil {
		s.SizeMin, s.SizeMax = pu64(0), max
		s.RecordSize = pu64(RecordSize(*max, HeaderSize))
		s.RecordsPerRing = pu64(RecordsPerRing(*s.MapSize, *s.RecordSize))
	}
	return s
}

func withRing(s *Site, size uint64) *Site {
	s.MapSize = pu64(size)
	s.RecordsPerRing = pu64(RecordsPerRing(size, *s.RecordSize))
	return s
}

func TestSiteVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		old, new               *Site
		verdict                string
		sizeDelta, recordDelta *int64
		grew                   bool
	}{
		{"128 to 112 saves 16", constSite("p", 128), constSite("p", 112), "saves 16 bytes per record", pi64(-16), pi64(-16), false},
		{"39 to 38 saves nothing", constSite("p", 39), constSite("p", 38), "payload -1 byte, record unchanged (48 bytes)", pi64(-1), pi64(0), false},
		{"20 to 32 grows by 8", constSite("p", 20), constSite("p", 32), "grows by 8 bytes per record", pi64(12), pi64(8), true},
		{"108 to 112 uses headroom", constSite("p", 108), constSite("p", 112), "payload +4 bytes, record unchanged (120 bytes)", pi64(4), pi64(0), false},
		{"39 to 40 uses the last byte", constSite("p", 39), constSite("p", 40), "payload +1 byte, record unchanged (48 bytes)", pi64(1), pi64(0), false},
		{"112 to 113 grows by 8", constSite("p", 112), constSite("p", 113), "grows by 8 bytes per record", pi64(1), pi64(8), true},
		{"same size", constSite("p", 112), constSite("p", 112), "unchanged", pi64(0), pi64(0), false},
		{"bigger ring", withRing(constSite("p", 24), 4096), withRing(constSite("p", 24), 8192), "per ring 127 → 255, record unchanged (32 bytes)", pi64(0), pi64(0), false},
		{"added", nil, constSite("p", 16), "added", nil, nil, false},
		{"removed", constSite("p", 16), nil, "removed", nil, nil, false},
		{"now dynamic within the record", constSite("p", 64), dynSite("p", pu64(63)), "size now dynamic (up to 72 bytes per record)", nil, nil, false},
		{"now dynamic and larger", constSite("p", 64), dynSite("p", pu64(255)), "size now dynamic (up to 264 bytes per record)", nil, nil, true},
		{"now dynamic and unbounded", constSite("p", 64), dynSite("p", nil), "size now dynamic and unbounded", nil, nil, true},
		{"now constant", dynSite("p", pu64(255)), constSite("p", 32), "size now constant (40 bytes per record)", nil, nil, false},
		{"now constant from unbounded", dynSite("p", nil), constSite("p", 32), "size now constant (40 bytes per record)", nil, nil, false},
		{"dynamic, same bound", dynSite("p", pu64(255)), dynSite("p", pu64(255)), "unchanged", nil, nil, false},
		{"dynamic, larger bound", dynSite("p", pu64(32)), dynSite("p", pu64(40)), "dynamic, grows by 8 bytes per record (up to 48 bytes)", nil, nil, true},
		{"dynamic, smaller bound", dynSite("p", pu64(40)), dynSite("p", pu64(32)), "dynamic, saves 8 bytes per record (up to 40 bytes)", nil, nil, false},
		{"dynamic, bound inside the record", dynSite("p", pu64(39)), dynSite("p", pu64(38)), "dynamic bounds changed, record unchanged (up to 48 bytes)", nil, nil, false},
		{"dynamic, loses its bound", dynSite("p", pu64(40)), dynSite("p", nil), "dynamic, now unbounded", nil, nil, true},
		{"dynamic, gains a bound", dynSite("p", nil), dynSite("p", pu64(40)), "dynamic, now up to 48 bytes per record", nil, nil, false},
		{"dynamic, both unbounded", dynSite("p", nil), dynSite("p", nil), "unchanged", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var old, new Report
			if tc.old != nil {
				old.Sites = []Site{*tc.old}
			}
			if tc.new != nil {
				new.Sites = []Site{*tc.new}
			}
			d := Compare(&old, &new)
			if len(d.Sites) != 1 {
				t.Fatalf("got %d site rows, want 1", len(d.Sites))
			}
			s := d.Sites[0]
			if s.Verdict != tc.verdict {
				t.Errorf("verdict %q, want %q", s.Verdict, tc.verdict)
			}
			if !equalDelta(s.SizeDelta, tc.sizeDelta) || !equalDelta(s.RecordDelta, tc.recordDelta) {
				t.Errorf("deltas %s, %s, want %s, %s", deltaString(s.SizeDelta), deltaString(s.RecordDelta),
					deltaString(tc.sizeDelta), deltaString(tc.recordDelta))
			}
			if s.Grew() != tc.grew {
				t.Errorf("Grew() = %v, want %v", s.Grew(), tc.grew)
			}
		})
	}
}

func equalDelta(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func deltaString(d *int64) string {
	if d == nil {
		return "null"
	}
	b, _ := json.Marshal(*d)
	return string(b)
}

func typeInfo(object, name string, size uint64) TypeInfo {
	return TypeInfo{Object: object, Name: name, Size: size, RecordSize: RecordSize(size, HeaderSize)}
}

func TestTypeVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name        string
		old, new    []TypeInfo
		verdict     string
		recordDelta *int64
		grew        bool
	}{
		{"128 to 112", []TypeInfo{typeInfo("a.o", "struct event", 128)}, []TypeInfo{typeInfo("a.o", "struct event", 112)}, "saves 16 bytes per record", pi64(-16), false},
		{"39 to 38", []TypeInfo{typeInfo("a.o", "struct event", 39)}, []TypeInfo{typeInfo("a.o", "struct event", 38)}, "payload -1 byte, record unchanged (48 bytes)", pi64(0), false},
		{"20 to 32", []TypeInfo{typeInfo("a.o", "struct event", 20)}, []TypeInfo{typeInfo("a.o", "struct event", 32)}, "grows by 8 bytes per record", pi64(8), true},
		{"added", nil, []TypeInfo{typeInfo("a.o", "struct event", 32)}, "added", nil, false},
		{"removed", []TypeInfo{typeInfo("a.o", "struct event", 32)}, nil, "removed", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(&Report{Types: tc.old}, &Report{Types: tc.new})
			if len(d.Types) != 1 {
				t.Fatalf("got %d type rows, want 1", len(d.Types))
			}
			td := d.Types[0]
			if td.Verdict != tc.verdict || !equalDelta(td.RecordDelta, tc.recordDelta) || td.Grew() != tc.grew {
				t.Errorf("got %q, record delta %s, grew %v; want %q, %s, %v", td.Verdict, deltaString(td.RecordDelta), td.Grew(),
					tc.verdict, deltaString(tc.recordDelta), tc.grew)
			}
		})
	}
}

// diffRowText is what a test needs of a SiteDiff: its key, the instructions it
// pairs and its verdict.
func diffRowText(s SiteDiff) string {
	insn := func(s *Site) string {
		if s == nil {
			return "-"
		}
		b, _ := json.Marshal(s.Insn)
		return string(b)
	}
	return strings.Join([]string{s.Object, s.Program, s.Helper, s.Map, insn(s.Old) + ">" + insn(s.New), s.Verdict}, " ")
}

func placed(s *Site, object string, insn int) Site {
	c := *s
	c.Object, c.Insn = object, insn
	return c
}

func TestCompareMatching(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new []Site
		want     []string
	}{
		{
			name: "objects match by base name",
			old:  []Site{placed(constSite("a", 128), "old/x.o", 3), placed(constSite("a", 40), "old/y.o", 3)},
			new:  []Site{placed(constSite("a", 112), "new/x.o", 3), placed(constSite("a", 40), "new/y.o", 9)},
			want: []string{
				"x.o a ringbuf_output events 3>3 saves 16 bytes per record",
				"y.o a ringbuf_output events 3>9 unchanged",
			},
		},
		{
			name: "one object a side matches whatever its name",
			old:  []Site{placed(constSite("a", 128), "build/prog-v1.o", 3)},
			new:  []Site{placed(constSite("a", 112), "build/prog-v2.o", 3), placed(constSite("b", 8), "build/prog-v2.o", 7)},
			want: []string{
				"prog-v2.o a ringbuf_output events 3>3 saves 16 bytes per record",
				"prog-v2.o b ringbuf_output events ->7 added",
			},
		},
		{
			name: "several sends of one key pair in instruction order",
			old:  []Site{placed(constSite("a", 16), "p.o", 20), placed(constSite("a", 128), "p.o", 10), placed(constSite("a", 40), "p.o", 30)},
			new:  []Site{placed(constSite("a", 112), "p.o", 11), placed(constSite("a", 24), "p.o", 21)},
			want: []string{
				"p.o a ringbuf_output events 10>11 saves 16 bytes per record",
				"p.o a ringbuf_output events 20>21 grows by 8 bytes per record",
				"p.o a ringbuf_output events 30>- removed",
			},
		},
		{
			name: "another map is another send",
			old:  []Site{placed(constSite("a", 16), "p.o", 1)},
			new:  []Site{func() Site { s := placed(constSite("a", 16), "p.o", 1); s.Map = "alerts"; return s }()},
			want: []string{
				"p.o a ringbuf_output alerts ->1 added",
				"p.o a ringbuf_output events 1>- removed",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(&Report{Sites: tc.old}, &Report{Sites: tc.new})
			var got []string
			for _, s := range d.Sites {
				got = append(got, diffRowText(s))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCompareTypesByObjectAndName(t *testing.T) {
	old := &Report{Types: []TypeInfo{typeInfo("old/a.o", "struct event", 128), typeInfo("old/b.o", "struct event", 24)}}
	new := &Report{Types: []TypeInfo{typeInfo("new/a.o", "struct event", 112), typeInfo("new/b.o", "struct event", 32)}}
	var got []string
	for _, td := range Compare(old, new).Types {
		got = append(got, td.Object+" "+td.Name+": "+td.Verdict)
	}
	want := "a.o struct event: saves 16 bytes per record\nb.o struct event: grows by 8 bytes per record"
	if strings.Join(got, "\n") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

func TestSummary(t *testing.T) {
	sites := func(pairs ...[2]uint64) *Diff {
		var old, new Report
		for i, p := range pairs {
			name := string(rune('a' + i))
			old.Sites = append(old.Sites, *constSite(name, p[0]))
			new.Sites = append(new.Sites, *constSite(name, p[1]))
		}
		return Compare(&old, &new)
	}
	for _, tc := range []struct {
		name string
		diff *Diff
		want string
	}{
		{"seed", sites([2]uint64{128, 112}, [2]uint64{39, 38}, [2]uint64{40, 40}, [2]uint64{24, 24}),
			"1 send saves 16 bytes per record, 0 grow, 3 unchanged"},
		{"several savings", sites([2]uint64{128, 112}, [2]uint64{40, 32}),
			"2 sends save 8 to 16 bytes per record, 0 grow, 0 unchanged"},
		{"equal savings", sites([2]uint64{128, 112}, [2]uint64{40, 24}),
			"2 sends save 16 bytes per record, 0 grow, 0 unchanged"},
		{"growth", sites([2]uint64{20, 32}, [2]uint64{8, 8}),
			"0 sends save, 1 grows by 8 bytes per record, 1 unchanged"},
		{"growths", sites([2]uint64{20, 32}, [2]uint64{8, 32}),
			"0 sends save, 2 grow by 8 to 24 bytes per record, 0 unchanged"},
		{"added, removed and changed", Compare(
			&Report{Sites: []Site{*constSite("a", 8), *constSite("b", 64)}},
			&Report{Sites: []Site{*dynSite("b", pu64(63)), *constSite("c", 8)}}),
			"0 sends save, 0 grow, 0 unchanged, 1 changed, 1 added, 1 removed"},
		{"types when nothing is sent", Compare(
			&Report{Types: []TypeInfo{typeInfo("h", "struct a", 128)}},
			&Report{Types: []TypeInfo{typeInfo("h", "struct a", 112)}}),
			"1 type saves 16 bytes per record, 0 grow, 0 unchanged"},
		{"empty", Compare(nil, nil), "no sends and no types on either side"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.diff.Summary(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGrown(t *testing.T) {
	d := Compare(
		&Report{Sites: []Site{*constSite("a", 20), *constSite("b", 128)}, Types: []TypeInfo{typeInfo("p.o", "struct a", 20)}},
		&Report{Sites: []Site{*constSite("a", 32), *constSite("b", 112), *constSite("c", 600)}, Types: []TypeInfo{typeInfo("p.o", "struct a", 32)}})
	sites, types := d.Grown()
	if len(sites) != 1 || sites[0].Program != "a" || len(types) != 1 || types[0].Name != "struct a" {
		t.Errorf("Grown() = %v, %v; want site a and struct a", sites, types)
	}
}

// The JSON form: null for a missing side, its deltas and an unknown type;
// [] for no rows; the key order of DESIGN.md.
func TestDiffJSON(t *testing.T) {
	s := constSite("a", 16)
	s.Type = ""
	b, err := json.Marshal(Compare(&Report{}, &Report{Sites: []Site{*s}}))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`{"version":1,"sites":[{"object":"prog.o","program":"a","helper":"ringbuf_output","map":"events","type":null,"old":null,"new":{`,
		`"size_delta":null,"record_delta":null,"verdict":"added"}],"types":[]}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("JSON lacks %s:\n%s", want, got)
		}
	}
}

// A send inserted before others of the same program, helper and map does
// not shift every pairing: sends of the same type pair first.
func TestCompareInsertedSend(t *testing.T) {
	site := func(typ string, insn int, size uint64) Site {
		return Site{Object: "p.o", Program: "prog", Helper: HelperRingbufReserve, Map: "rb", Type: typ, Insn: insn,
			Size: &size, RecordSize: ptr(RecordSize(size, HeaderSize))}
	}
	old := &Report{Sites: []Site{site("struct tiny", 1, 8), site("struct small", 5, 16)}}
	new := &Report{Sites: []Site{site("struct big", 1, 128), site("struct tiny", 4, 8), site("struct small", 8, 16)}}
	d := Compare(old, new)
	got := map[string]string{}
	for _, s := range d.Sites {
		got[s.Type] = s.Verdict
	}
	want := map[string]string{"struct tiny": VerdictUnchanged, "struct small": VerdictUnchanged, "struct big": VerdictAdded}
	for typ, v := range want {
		if got[typ] != v {
			t.Errorf("%s: %q, want %q (all: %v)", typ, got[typ], v, got)
		}
	}
	if sites, _ := d.Grown(); len(sites) != 0 {
		t.Errorf("grown: %+v", sites)
	}
}
