package btfsize

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// siteRow is the part of a site the fixtures pin down (testdata/EXPECTED.md).
type siteRow struct {
	program, entries, helper, mapName string
	size                              string // "112", "24..272", "dynamic"
	typ, source                       string // with DWARF
	strippedType, strippedSource      string // without DWARF; "" when no stripped variant
	line                              int
}

var fixtureSites = map[string][]siteRow{
	"ringbuf": {
		{"handle_exec", "handle_exec", "ringbuf_reserve", "events", "112", "struct event", "dwarf", "", "none", 44},
		{"handle_exit", "handle_exit", "ringbuf_output", "events", "40", "exit_event_t", "dwarf", "exit_event_t", "line", 73},
		{"handle_alert", "handle_alert", "ringbuf_reserve", "alerts", "32", "struct alert", "dwarf", "struct alert", "map", 82},
		{"handle_scratch", "handle_scratch", "ringbuf_output", "events", "600", "struct big_event", "dwarf", "struct big_event", "map", 112},
	},
	"subprog": {
		{"emit_net_event", "trace_tcp_close,trace_tcp_connect", "ringbuf_reserve", "rb", "72", "struct net_event", "dwarf", "struct net_event", "line", 76},
		{"record_retransmit", "trace_tcp_retransmit", "ringbuf_output", "rb", "24", "struct retransmit_event", "dwarf", "struct retransmit_event", "line", 105},
		{"emit_loop_sample", "trace_tcp_sendmsg", "ringbuf_output", "rb", "16", "struct loop_sample", "dwarf", "struct loop_sample", "line", 116},
	},
	"dynamic": {
		{"send_two_sizes", "send_two_sizes", "ringbuf_output", "rb", "24..272", "struct large_event", "dwarf", "struct large_event", "map", 148},
		{"send_masked_len", "send_masked_len", "ringbuf_output", "rb", "0..255", "struct large_event", "dwarf", "struct large_event", "map", 167},
		{"send_dynptr", "send_dynptr", "ringbuf_reserve_dynptr", "rb", "64", "struct dyn_event", "line", "struct dyn_event", "line", 181},
		{"send_compat_perf", "send_compat_perf", "perf_event_output", "rb", "32", "struct compat_event", "dwarf", "", "none", 121},
		{"send_perf_array", "send_perf_array", "perf_event_output", "perf_events", "24", "struct perf_sample", "dwarf", "struct perf_sample", "line", 214},
		{"send_bad_ring", "send_bad_ring", "ringbuf_reserve", "bad_rb", "16", "struct bad_ring_event", "dwarf", "", "none", 223},
		{"send_oversized", "send_oversized", "ringbuf_output", "tiny_rb", "5000", "struct huge_event", "dwarf", "struct huge_event", "map", 248},
	},
	"layout": {
		{"layout_probe", "layout_probe", "ringbuf_reserve", "layout_rb", "128", "struct rec128", "dwarf", "", "", 130},
		{"layout_probe", "layout_probe", "ringbuf_reserve", "layout_rb", "39", "struct rec39", "dwarf", "", "", 137},
		{"layout_probe", "layout_probe", "ringbuf_output", "layout_rb", "24", "struct local_only", "dwarf", "", "", 148},
	},
	"target": {
		{"trace_v6_connect", "trace_v6_connect", "ringbuf_reserve", "conns", "48", "struct conn_event", "dwarf", "", "", 40},
		{"trace_v6_close", "trace_v6_close", "ringbuf_reserve_dynptr", "conns", "48", "struct conn_event", "dwarf", "", "", 56},
		// The reserve sits in compat.bpf.h, inlined into the program.
		{"trace_v6_accept", "trace_v6_accept", "ringbuf_reserve", "conns", "48", "struct conn_event", "map", "", "", 14},
		// The size is a CO-RE relocation: this build's, marked as such.
		{"trace_v6_rcv", "trace_v6_rcv", "ringbuf_output", "conns", "16", "struct in6_addr", "dwarf", "", "", 92},
	},
	"naming": {
		{"earlier_line", "earlier_line", "ringbuf_reserve", "rb", "32", "struct alert", "dwarf", "struct alert", "line", 69},
		// An unrelated reservation on an earlier line names nothing here.
		{"earlier_line", "earlier_line", "ringbuf_output", "rb", "8", "", "none", "", "none", 72},
		// The header member of a stack struct, not the struct.
		{"first_member", "first_member", "ringbuf_output", "rb", "16", "struct hdr", "line", "struct hdr", "line", 61},
		{"first_member", "first_member", "ringbuf_output", "rb", "64", "struct big", "dwarf", "struct big", "line", 62},
		// Two sends merged into one call of two maps and a shared slot: line 0, ambiguous.
		{"shared_slot", "shared_slot", "ringbuf_output", "", "16..24", "", "none", "", "none", 0},
		{"unsized_ring", "unsized_ring", "ringbuf_reserve", "sized_later", "16", "struct hdr", "dwarf", "struct hdr", "line", 91},
		// void *p names nothing; only the size, unique with DWARF.
		{"void_buffer", "void_buffer", "ringbuf_reserve", "hidden_rb", "64", "struct big", "size", "", "none", 79},
		// A const volatile global: bounded by its width, 256 by default.
		{"configured_len", "configured_len", "ringbuf_output", "rb", "0..4294967295", "", "none", "", "none", 106},
	},
	"ksym": {
		{"ksym_probe", "ksym_probe", "ringbuf_reserve", "rq_events", "24", "struct rq_event", "dwarf", "", "", 36},
	},
}

func sizeString(s *Site) string {
	switch {
	case s.Size != nil:
		return fmt.Sprint(*s.Size)
	case s.SizeMin != nil:
		return fmt.Sprintf("%d..%d", *s.SizeMin, *s.SizeMax)
	}
	return "dynamic"
}

func findSite(sites []Site, want siteRow) *Site {
	for i := range sites {
		s := &sites[i]
		if s.Program == want.program && s.Line == want.line && s.Helper == want.helper {
			return s
		}
	}
	return nil
}

func TestSitesFixtures(t *testing.T) {
	for fixture, rows := range fixtureSites {
		for _, bo := range byteOrders {
			for _, stripped := range []bool{false, true} {
				file := fmt.Sprintf("%s-%s.elf", fixture, bo)
				if stripped {
					if rows[0].strippedSource == "" {
						continue
					}
					file = fmt.Sprintf("%s-%s.stripped.elf", fixture, bo)
				}
				t.Run(file, func(t *testing.T) {
					a, err := openFixture(t, file).Sites(SiteOptions{HeaderSize: HeaderSize})
					if err != nil {
						t.Fatal(err)
					}
					if len(a.Sites) != len(rows) {
						t.Errorf("%d sites, want %d", len(a.Sites), len(rows))
					}
					for _, want := range rows {
						checkSite(t, a.Sites, want, stripped)
					}
				})
			}
		}
	}
}

func checkSite(t *testing.T, sites []Site, want siteRow, stripped bool) {
	t.Helper()
	s := findSite(sites, want)
	if s == nil {
		t.Errorf("no site %s %s at line %d", want.program, want.helper, want.line)
		return
	}
	typ, source := want.typ, want.source
	if stripped {
		typ, source = want.strippedType, want.strippedSource
	}
	got := []string{strings.Join(s.EntryPrograms, ","), s.Map, sizeString(s), s.Type, s.TypeSource}
	exp := []string{want.entries, want.mapName, want.size, typ, source}
	if !slices.Equal(got, exp) {
		t.Errorf("%s line %d: entries, map, size, type, source = %q, want %q", want.program, want.line, got, exp)
	}
	if !strings.HasPrefix(s.File, "testdata/") {
		t.Errorf("%s: file %q", want.program, s.File)
	}
}

// A linked object keeps both inputs' sends; it has no DWARF.
func TestSitesLinked(t *testing.T) {
	a, err := openFixture(t, "linked-el.elf").Sites(SiteOptions{HeaderSize: HeaderSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sites) != 7 {
		t.Fatalf("%d sites, want 7", len(a.Sites))
	}
	for _, want := range fixtureSites["ringbuf"] {
		checkSite(t, a.Sites, want, true)
	}
	for _, want := range fixtureSites["subprog"] {
		checkSite(t, a.Sites, want, true)
	}
}

func TestSiteFigures(t *testing.T) {
	a, err := openFixture(t, "ringbuf-el.elf").Sites(SiteOptions{HeaderSize: HeaderSize})
	if err != nil {
		t.Fatal(err)
	}
	s := findSite(a.Sites, fixtureSites["ringbuf"][0])
	if *s.MapSize != 262144 || *s.RecordSize != 120 || *s.Headroom != 0 || *s.RecordsPerRing != 2184 {
		t.Errorf("map size, record, headroom, per ring = %d, %d, %d, %d; want 262144, 120, 0, 2184",
			*s.MapSize, *s.RecordSize, *s.Headroom, *s.RecordsPerRing)
	}
}

func TestSiteWarnings(t *testing.T) {
	a, err := openFixture(t, "dynamic-el.elf").Sites(SiteOptions{HeaderSize: HeaderSize, PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range a.Warnings {
		msgs = append(msgs, w.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"ringbuf bad_rb: max_entries 3000 is not a power of two",
		"bpf_perf_event_output on ringbuf map rb",
		"a record of 5008 bytes does not fit in ring tiny_rb of 4096 bytes",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning %q in:\n%s", want, all)
		}
	}
	// A 16 KiB page refuses rings sized for 4 KiB pages.
	a, err = openFixture(t, "ksym-el.elf").Sites(SiteOptions{HeaderSize: HeaderSize, PageSize: 65536})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "not a multiple of the page size (65536 bytes)") {
		t.Errorf("warnings with 64 KiB pages: %+v", a.Warnings)
	}
}

// A send inside an inlined wrapper names the line that called the wrapper,
// from DWARF's inlined subroutines: in a header, and in the same file.
func TestSiteCaller(t *testing.T) {
	for _, tc := range []struct {
		fixture, program, at, caller string
	}{
		{"target", "trace_v6_accept", "testdata/compat.bpf.h:14", "testdata/target.c:73"},
		{"dynamic", "send_compat_perf", "testdata/dynamic.c:121", "testdata/dynamic.c:200"},
		{"target", "trace_v6_connect", "testdata/target.c:40", ""},
	} {
		for _, bo := range byteOrders {
			a, err := openFixture(t, tc.fixture+"-"+bo+".elf").Sites(SiteOptions{HeaderSize: HeaderSize})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range a.Sites {
				if s.Program != tc.program {
					continue
				}
				at, caller := fmt.Sprintf("%s:%d", s.File, s.Line), ""
				if s.CallerFile != "" {
					caller = fmt.Sprintf("%s:%d", s.CallerFile, s.CallerLine)
				}
				if at != tc.at || caller != tc.caller {
					t.Errorf("%s %s: at %s from %q, want %s from %q", bo, tc.program, at, caller, tc.at, tc.caller)
				}
			}
		}
	}
}

func TestSiteNamingEdges(t *testing.T) {
	for _, bo := range byteOrders {
		a, err := openFixture(t, "naming-"+bo+".elf").Sites(SiteOptions{HeaderSize: HeaderSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Sites {
			switch s.Program {
			case "shared_slot":
				if want := []string{"struct a_ev", "struct b_ev"}; !slices.Equal(s.Candidates, want) {
					t.Errorf("%s shared slot: candidates %q, want %q", bo, s.Candidates, want)
				}
			case "configured_len":
				if s.SizeGlobal != "snap_len" || *s.SizeDefault != 256 || *s.RecordSize != 264 {
					t.Errorf("%s configured_len: global %q default %v record %v, want snap_len, 256, 264",
						bo, s.SizeGlobal, *s.SizeDefault, *s.RecordSize)
				}
			case "unsized_ring":
				if s.MapSize != nil || s.RecordsPerRing != nil {
					t.Errorf("%s unsized ring: map size %v, per ring %v, want null", bo, s.MapSize, s.RecordsPerRing)
				}
			}
		}
		var msgs []string
		for _, w := range a.Warnings {
			msgs = append(msgs, w.Message)
		}
		joined := strings.Join(msgs, "\n")
		if !strings.Contains(joined, "sized_later: max_entries is not set") || strings.Contains(joined, "sized_later: max_entries 0") {
			t.Errorf("%s warnings:\n%s", bo, joined)
		}
	}
}

func TestSiteCORESize(t *testing.T) {
	for _, bo := range byteOrders {
		a, err := openFixture(t, "target-"+bo+".elf").Sites(SiteOptions{HeaderSize: HeaderSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Sites {
			want := ""
			if s.Program == "trace_v6_rcv" {
				want = "type_size of struct in6_addr"
			}
			if s.SizeRelocation != want {
				t.Errorf("%s %s: size relocation %q, want %q", bo, s.Program, s.SizeRelocation, want)
			}
		}
	}
}
