package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/btfsize/btfsize/btfsize"
)

// kernelBTF is the running kernel's BTF, as `btfsize --kernel` reads it.
const kernelBTF = "/sys/kernel/btf/vmlinux"

var (
	kernelOnce   sync.Once
	kernelReport *btfsize.Report
	kernelErr    error
)

// kernelAll is the report of `btfsize --all /sys/kernel/btf/vmlinux`, built
// once per test binary. Callers must not modify it.
func kernelAll(tb testing.TB) *btfsize.Report {
	tb.Helper()
	if _, err := os.Stat(kernelBTF); err != nil {
		tb.Skip("no kernel BTF")
	}
	kernelOnce.Do(func() {
		obj, err := btfsize.Open(kernelBTF, btfsize.Options{})
		if err != nil {
			kernelErr = err
			return
		}
		defer obj.Close()
		kernelReport, kernelErr = obj.Report(btfsize.Request{All: true, HeaderSize: btfsize.HeaderSize})
	})
	if kernelErr != nil {
		tb.Fatal(kernelErr)
	}
	return kernelReport
}

// stdJSON is what jsonList wrote for an element before appendTypeInfo:
// encoding/json without HTML escapes, the Encoder's newline trimmed.
func stdJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// checkTypeInfo fails unless appendTypeInfo writes exactly what encoding/json
// writes for t, both from an empty buffer and appended after a prefix.
func checkTypeInfo(tb testing.TB, what string, t *btfsize.TypeInfo) bool {
	tb.Helper()
	want := stdJSON(tb, t)
	got := appendTypeInfo(nil, t)
	if !bytes.Equal(got, want) {
		tb.Errorf("%s: appendTypeInfo differs from encoding/json\n%s", what, firstDiff(got, want))
		return false
	}
	prefix := []byte("prefix,")
	got = appendTypeInfo(append([]byte{}, prefix...), t)
	if !bytes.Equal(got, append(prefix, want...)) {
		tb.Errorf("%s: appendTypeInfo after a prefix differs from encoding/json\n%s", what, firstDiff(got, append(prefix, want...)))
		return false
	}
	return true
}

// firstDiff shows where got and want part.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("first difference at byte %d (len got %d, want %d)\n got: %q\nwant: %q",
		i, len(got), len(want), got[lo:min(len(got), i+40)], want[lo:min(len(want), i+40)])
}

// TestAppendTypeInfoKernel compares every type of the host kernel's --all
// report with encoding/json.
func TestAppendTypeInfoKernel(t *testing.T) {
	r := kernelAll(t)
	if len(r.Types) < 1000 {
		t.Fatalf("kernel --all report has %d types, want thousands", len(r.Types))
	}
	members := 0
	for i := range r.Types {
		ti := &r.Types[i]
		members += len(ti.Members)
		if !checkTypeInfo(t, fmt.Sprintf("type %d %q", i, ti.Name), ti) {
			return // the first mismatch is enough
		}
	}
	if members == 0 {
		t.Fatal("no members in the kernel's types")
	}
	t.Logf("%d types, %d members: identical", len(r.Types), members)
}

// hostileStrings exercise every escaping rule of encoding/json.
func hostileStrings() []string {
	var ctl strings.Builder
	for c := 0; c < 0x20; c++ {
		ctl.WriteByte(byte(c))
	}
	s := []string{
		"",
		"plain",
		`"quoted"`,
		`back\slash\`,
		`\"\\""`,
		ctl.String(),
		"\x7f",
		"a\x7fb",
		"<script>&amp;</script>",
		"\u2028",
		"\u2029",
		"x\u2028y\u2029z\u202a\u2027",
		"\xff",
		"\xfe\xff",
		"a\xffb",
		"\x80",             // lone continuation byte
		"a\x80\x80b",       // two of them
		"\xc3",             // truncated 2-byte sequence
		"\xc3(",            // bad second byte
		"\xe2\x82",         // truncated 3-byte sequence
		"\xe2\x82x",        // truncated, then ASCII
		"\xf0\x9f\x98",     // truncated 4-byte sequence
		"\xf0\x9f\x98x",    // truncated, then ASCII
		"\xe2\x80",         // truncated U+2028
		"\xc0\x80",         // overlong NUL
		"\xc1\xbf",         // overlong
		"\xe0\x80\xaf",     // overlong '/'
		"\xed\xa0\x80",     // UTF-16 surrogate
		"\xed\xbf\xbf",     // surrogate
		"\xf4\x90\x80\x80", // above U+10FFFF
		"\xf5\x80\x80\x80",
		"\uFFFD", // a real replacement character stays as is
		"\uFEFF",
		"😀 emoji 👩‍👩‍👧 flag 🇫🇷",
		"é ü ñ 日本語 Ω",
		"struct task_struct",
		"unsigned long long[16]",
		"int (*)(struct sk_buff *, void *)",
		strings.Repeat("x", 5000) + "\n",
	}
	for c := 0; c < 0x20; c++ {
		s = append(s, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for c := 0x80; c <= 0xff; c++ {
		s = append(s, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}))
	}
	return s
}

// fullTypeInfo sets every exported field of a TypeInfo (and of each of its
// MemberInfo) to a non-zero value by reflection, so a field added to either
// struct but not to appendTypeInfo makes the comparison fail.
func fullTypeInfo(t *testing.T) btfsize.TypeInfo {
	var ti btfsize.TypeInfo
	fill(t, reflect.ValueOf(&ti).Elem(), 1)
	return ti
}

func fill(t *testing.T, v reflect.Value, n uint64) uint64 {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		n++
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("s%d<&>\"", n))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64, reflect.Int32:
			f.SetInt(-int64(n))
		case reflect.Uint, reflect.Uint64, reflect.Uint32:
			f.SetUint(math.MaxUint64 - n)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := 0; j < 2; j++ {
				e := s.Index(j)
				switch e.Kind() {
				case reflect.String:
					e.SetString(fmt.Sprintf("e%d", n+uint64(j)))
				case reflect.Struct:
					n = fill(t, e, n)
				default:
					t.Fatalf("field %s: unexpected element kind %s", v.Type().Field(i).Name, e.Kind())
				}
			}
			f.Set(s)
		default:
			t.Fatalf("field %s: unexpected kind %s: teach appendTypeInfo and this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	return n
}

// TestAppendTypeInfoFields checks that every field is written, in order.
func TestAppendTypeInfoFields(t *testing.T) {
	ti := fullTypeInfo(t)
	want := stdJSON(t, &ti)
	if !bytes.Contains(want, []byte(`"file":`)) || !bytes.Contains(want, []byte(`"line":-`)) ||
		!bytes.Contains(want, []byte(`"forced_align":true`)) || !bytes.Contains(want, []byte(`18446744073709551`)) {
		t.Fatalf("fullTypeInfo did not set every field: %s", want)
	}
	checkTypeInfo(t, "every field set", &ti)
	checkTypeInfo(t, "zero TypeInfo", &btfsize.TypeInfo{})
	if got := appendTypeInfo(nil, &btfsize.TypeInfo{}); !bytes.Contains(got, []byte(`"optimal_order":null,"members":null}`)) {
		t.Errorf("zero TypeInfo: want null lists and no file/line, got %s", got)
	}
}

// TestAppendTypeInfoHostile compares hand-made TypeInfos with hostile
// strings, nil and empty lists, and extreme numbers.
func TestAppendTypeInfoHostile(t *testing.T) {
	strs := hostileStrings()
	for i, s := range strs {
		ti := btfsize.TypeInfo{
			Name: s, Object: s + s, Source: "btf",
			Size: math.MaxUint64, Align: 1, RecordSize: math.MaxUint64 - 1, Headroom: 7,
			Holes: math.MaxInt, BitHoles: math.MinInt, Packed: i%2 == 0, Union: i%3 == 0,
			OptimalOrder: []string{s, "b", s},
			Members: []btfsize.MemberInfo{
				{Name: s, Type: s, Offset: math.MaxUint64, Size: 8, Align: 8, ForcedAlign: true, BitSize: 3, BitHoleAfter: 5},
				{Name: "", Type: "char[" + s + "]"},
			},
			File: s, Line: i - 10,
		}
		if !checkTypeInfo(t, fmt.Sprintf("string %d %q", i, s), &ti) {
			continue
		}
		// Every string field, on its own.
		for _, set := range []func(*btfsize.TypeInfo){
			func(ti *btfsize.TypeInfo) { ti.Name = s },
			func(ti *btfsize.TypeInfo) { ti.Object = s },
			func(ti *btfsize.TypeInfo) { ti.Source = s },
			func(ti *btfsize.TypeInfo) { ti.File = s },
			func(ti *btfsize.TypeInfo) { ti.OptimalOrder = []string{s} },
			func(ti *btfsize.TypeInfo) { ti.Members = []btfsize.MemberInfo{{Name: s}} },
			func(ti *btfsize.TypeInfo) { ti.Members = []btfsize.MemberInfo{{Type: s}} },
		} {
			var ti btfsize.TypeInfo
			set(&ti)
			checkTypeInfo(t, fmt.Sprintf("string %d %q in one field", i, s), &ti)
		}
		// appendJSONString on its own, against json.Marshal's quoting.
		if got, want := appendJSONString(nil, s), stdJSON(t, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q)\n%s", s, firstDiff(got, want))
		}
	}

	// Every single byte and every pair of bytes, raw.
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)})
		if got, want := appendJSONString(nil, s), stdJSON(t, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q)\n%s", s, firstDiff(got, want))
		}
		for d := 0; d < 256; d += 7 {
			s := string([]byte{byte(c), byte(d), 'z'})
			if got, want := appendJSONString(nil, s), stdJSON(t, s); !bytes.Equal(got, want) {
				t.Errorf("appendJSONString(%q)\n%s", s, firstDiff(got, want))
			}
		}
	}

	// Lists and omitempty.
	for _, tc := range []struct {
		name string
		ti   btfsize.TypeInfo
	}{
		{"nil lists", btfsize.TypeInfo{Name: "struct a"}},
		{"empty lists", btfsize.TypeInfo{Name: "struct a", OptimalOrder: []string{}, Members: []btfsize.MemberInfo{}}},
		{"nil order, one member", btfsize.TypeInfo{Members: []btfsize.MemberInfo{{Name: "x"}}}},
		{"one name, nil members", btfsize.TypeInfo{OptimalOrder: []string{"x"}}},
		{"empty strings in order", btfsize.TypeInfo{OptimalOrder: []string{"", "", ""}}},
		{"file only", btfsize.TypeInfo{File: "a.h"}},
		{"line only", btfsize.TypeInfo{Line: 12}},
		{"negative line", btfsize.TypeInfo{File: "a.h", Line: -1}},
		{"min line", btfsize.TypeInfo{Line: math.MinInt}},
		{"max line", btfsize.TypeInfo{File: "a.h", Line: math.MaxInt}},
		{"negative holes", btfsize.TypeInfo{Holes: -3, BitHoles: -1}},
		{"max everything", btfsize.TypeInfo{
			Size: math.MaxUint64, Align: math.MaxUint64, RecordSize: math.MaxUint64, Headroom: math.MaxUint64,
			PerfRecordSize: math.MaxUint64, Holes: math.MaxInt, HoleBytes: math.MaxUint64, BitHoles: math.MaxInt,
			BitHoleBits: math.MaxUint64, BitPadding: math.MaxUint64, Padding: math.MaxUint64, Packed: true, Union: true,
			OptimalSize: math.MaxUint64, OptimalRecordSize: math.MaxUint64,
			Members: []btfsize.MemberInfo{{Offset: math.MaxUint64, Size: math.MaxUint64, Align: math.MaxUint64,
				ForcedAlign: true, BitOffset: math.MaxUint64, BitSize: math.MaxUint64, HoleAfter: math.MaxUint64,
				BitHoleAfter: math.MaxUint64}},
		}},
	} {
		checkTypeInfo(t, tc.name, &tc.ti)
	}
	if got := string(appendTypeInfo(nil, &btfsize.TypeInfo{Name: "<&>"})); !strings.HasPrefix(got, `{"name":"<&>",`) {
		t.Errorf("<&> must not be escaped: %s", got)
	}
}

// checkDocument fails unless the types list JSON writes for r is the one
// encoding/json writes (jsonList), and the document is valid JSON.
func checkDocument(t *testing.T, what string, r *btfsize.Report) {
	t.Helper()
	var got, want bytes.Buffer
	gw, ww := bufio.NewWriter(&got), bufio.NewWriter(&want)
	jsonTypes(gw, r.Types)
	if err := jsonList(ww, "types", r.Types); err != nil {
		t.Fatalf("%s: jsonList: %v", what, err)
	}
	gw.Flush()
	ww.Flush()
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("%s: types differ from the encoding/json ones\n%s", what, firstDiff(got.Bytes(), want.Bytes()))
	}
	var doc bytes.Buffer
	if err := JSON(&doc, r); err != nil {
		t.Fatalf("%s: JSON: %v", what, err)
	}
	if !json.Valid(doc.Bytes()) {
		t.Errorf("%s: document is not valid JSON", what)
	}
}

// TestJSONDocument compares the types of whole documents with encoding/json.
func TestJSONDocument(t *testing.T) {
	size := uint64(24)
	strs := hostileStrings()
	var types []btfsize.TypeInfo
	for i, s := range strs {
		types = append(types, btfsize.TypeInfo{Name: s, Object: "o", OptimalOrder: []string{s},
			Members: []btfsize.MemberInfo{{Name: s, Type: s}}, File: s, Line: i})
	}
	for _, tc := range []struct {
		name string
		r    btfsize.Report
	}{
		{"empty", btfsize.Report{}},
		{"one type", btfsize.Report{Version: 1, HeaderSize: 8, Types: []btfsize.TypeInfo{{Name: "struct a"}}}},
		{"hostile types", btfsize.Report{Version: 1, HeaderSize: 8, Types: types}},
		{"everything", btfsize.Report{Version: 1, HeaderSize: 8,
			Sites: []btfsize.Site{{Object: "p.o", Program: "<p>", Size: &size, Source: "if (a && b < c) \u2028"},
				{Object: "p.o", Program: "q", Type: "struct e"}},
			Types:    []btfsize.TypeInfo{{Name: "struct e", Members: []btfsize.MemberInfo{{Name: "x"}}}, {Name: "struct d"}},
			Warnings: []btfsize.Warning{{Object: "p.o", Message: "a \"b\" <c>", Info: true}},
			Target: &btfsize.Target{BTF: "/sys/kernel/btf/vmlinux", HeaderSize: 8,
				Drift: []btfsize.Drift{{Type: "struct e", Size: 8, TargetSize: 16}}}}},
	} {
		checkDocument(t, tc.name, &tc.r)
	}
}

// TestJSONDocumentKernel compares the kernel's --all types, written on every
// CPU, with encoding/json's, byte for byte.
func TestJSONDocumentKernel(t *testing.T) {
	r := kernelAll(t)
	checkDocument(t, "kernel --all", r)
}

// FuzzTypeInfoJSON requires appendTypeInfo to match encoding/json for a
// TypeInfo built from fuzzed strings and numbers.
func FuzzTypeInfoJSON(f *testing.F) {
	f.Add("struct a", "a.o", "btf", "a.h", "x", "int", uint64(8), uint64(4), 3, 12, uint8(0))
	f.Add("\"\\\x00\x1f\x7f<>&", "\u2028\u2029", "\xff\x80\xc3", "😀\xf0\x9f\x98", "\xed\xa0\x80", "\b\f\n\r\t",
		uint64(math.MaxUint64), uint64(0), -1, math.MinInt, uint8(0xff))
	f.Add("", "", "", "", "", "", uint64(0), uint64(0), 0, 0, uint8(0x0f))
	for _, s := range hostileStrings()[:40] {
		f.Add(s, s, s, s, s, s, uint64(len(s)), math.MaxUint64-uint64(len(s)), len(s), -len(s), uint8(len(s)))
	}
	f.Fuzz(func(t *testing.T, name, object, source, file, member, typ string, u1, u2 uint64, i1, line int, flags uint8) {
		ti := btfsize.TypeInfo{
			Name: name, Object: object, Source: source,
			Size: u1, Align: u2, RecordSize: u1 + u2, Headroom: u1 ^ u2, PerfRecordSize: u1 * 3,
			Holes: i1, HoleBytes: u2 >> 3, BitHoles: -i1, BitHoleBits: u1 >> 7, BitPadding: u1 % 64, Padding: u2 % 8,
			Packed: flags&1 != 0, Union: flags&2 != 0, OptimalSize: u2, OptimalRecordSize: u1,
			File: file, Line: line,
		}
		if flags&4 == 0 {
			ti.OptimalOrder = []string{member, typ, name}[:int(flags>>6)%4]
		}
		if flags&8 == 0 {
			n := int(flags>>4) % 4
			ti.Members = make([]btfsize.MemberInfo, n)
			for j := range ti.Members {
				ti.Members[j] = btfsize.MemberInfo{Name: member, Type: typ, Offset: u1 + uint64(j), Size: u2,
					Align: uint64(j), ForcedAlign: flags&16 != 0, BitOffset: u2 * 8, BitSize: uint64(i1),
					HoleAfter: uint64(line), BitHoleAfter: u1 - u2}
			}
		}
		checkTypeInfo(t, "fuzzed", &ti)
		for _, s := range []string{name, object, source, file, member, typ} {
			if got, want := appendJSONString(nil, s), stdJSON(t, s); !bytes.Equal(got, want) {
				t.Fatalf("appendJSONString(%q)\n%s", s, firstDiff(got, want))
			}
		}
	})
}

// BenchmarkJSONKernelTypes writes the kernel's --all report as JSON.
func BenchmarkJSONKernelTypes(b *testing.B) {
	r := kernelAll(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := JSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
