package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/btfsize/btfsize/btfsize"
)

// TestRenderColumns: the aligner of large tables writes what tablewriter
// writes, on tables of identifiers, numbers, empty cells, accented and
// double-width characters, and on the host kernel's types table.
func TestRenderColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "x", "struct task_struct", "u64", "12345678", "union <anon>", "é", "café_t", "漢字", "struct 名前", "—", "a b", "trailing ",
		"tab\there", "new\nline", "cr\r", "nul\x00", "bad\xff", "\x1b[31mred\x1b[0m", "rtl\u202eevil"}
	for range 200 {
		header, rows := randomTable(rng, words, "")
		compareRenders(t, header, rows)
	}
	if raw, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil && raw.Size() > 0 {
		obj, err := btfsize.Open("/sys/kernel/btf/vmlinux", btfsize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		r, err := obj.Report(btfsize.Request{All: true})
		if err != nil {
			t.Fatal(err)
		}
		header, rows := typeRows(r)
		if len(rows) <= largeTable {
			t.Fatalf("%d kernel types", len(rows))
		}
		compareRenders(t, header, rows)
	}
}

// randomTable is a table of 1 to 9 columns and up to 29 rows of words;
// header cells end in suffix, row cells in up to two "y".
func randomTable(rng *rand.Rand, words []string, suffix string) ([]string, [][]string) {
	cols := 1 + rng.IntN(9)
	header := make([]string, cols)
	for i := range header {
		header[i] = words[rng.IntN(len(words))] + suffix
	}
	rows := make([][]string, rng.IntN(30))
	for r := range rows {
		rows[r] = make([]string, cols)
		for i := range rows[r] {
			rows[r][i] = words[rng.IntN(len(words))] + strings.Repeat("y", rng.IntN(3))
		}
	}
	return header, rows
}

func compareRenders(t *testing.T, header []string, rows [][]string) {
	t.Helper()
	header, rows = printableCells(header, rows)
	var want, got bytes.Buffer
	if err := renderTablewriter(&want, header, rows); err != nil {
		t.Fatal(err)
	}
	if err := renderColumns(&got, header, rows); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		wl, gl := strings.Split(want.String(), "\n"), strings.Split(got.String(), "\n")
		for i := range min(len(wl), len(gl)) {
			if wl[i] != gl[i] {
				t.Fatalf("header %q: line %d:\ntablewriter %q\ncolumns     %q", header, i, wl[i], gl[i])
			}
		}
		t.Fatalf("header %q: %d lines, tablewriter %d", header, len(gl), len(wl))
	}
}

// TestTextEscapesControls: a name with a terminal escape sequence, bytes
// that are not UTF-8 or a C1 control reaches the terminal made visible.
func TestTextEscapesControls(t *testing.T) {
	for _, name := range []string{"struct evil\x1b]0;pwned\x07", "struct bad\xff\xfe", "struct c1\u009b31m", "struct rtl\u202eevil"} {
		r := &btfsize.Report{Version: btfsize.ReportVersion, HeaderSize: 8, Types: []btfsize.TypeInfo{{Name: name, Size: 8}}}
		var b bytes.Buffer
		if err := Text(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, c := range []string{"\x1b", "\x07", "\xff", "\u009b", "\u202e"} {
			if strings.Contains(out, c) {
				t.Errorf("%q: output holds %q:\n%s", name, c, out)
			}
		}
		if !strings.Contains(out, `\x1b`) && !strings.Contains(out, `\xff`) && !strings.Contains(out, `\u009b`) && !strings.Contains(out, `\u202e`) {
			t.Errorf("%q: no escape in output:\n%s", name, out)
		}
	}
	if got := string(printable([]byte("ok\tтест\n"))); got != "ok\tтест\n" {
		t.Errorf("printable changed clean text: %q", got)
	}
	if got := fmt.Sprintf("%s", printable([]byte("a\x00b"))); got != `a\x00b` {
		t.Errorf("printable(a NUL b) = %q", got)
	}
}

// TestMarkdownColumns: the same for Markdown tables.
func TestMarkdownColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"", "x", "`struct task_struct`", "u64", "12345678", "union <anon>", "é", "漢字", "a b", "a\\|b"}
	for range 200 {
		header, rows := randomTable(rng, words, "h")
		var want, got bytes.Buffer
		if err := markdownTablewriter(&want, header, rows); err != nil {
			t.Fatal(err)
		}
		if err := markdownColumns(&got, header, rows); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("header %q:\ntablewriter:\n%s\ncolumns:\n%s", header, want.String(), got.String())
		}
	}
}

// TestTextLargeTables: in a table of more than largeTable rows, characters
// of several bytes come out whole, and a name with an escape keeps every
// column aligned, as in a small table.
func TestTextLargeTables(t *testing.T) {
	for _, n := range []int{3, largeTable + 100} {
		r := &btfsize.Report{Version: btfsize.ReportVersion, HeaderSize: 8}
		for i := range n {
			name := fmt.Sprintf("struct %03d%s", i, strings.Repeat("é", 100+i%7))
			if i == 1 {
				name = "struct a\x07b"
			}
			r.Types = append(r.Types, btfsize.TypeInfo{Name: name, Size: 8, Align: 8})
		}
		var b bytes.Buffer
		if err := Text(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, `\xc3`) || strings.Contains(out, `\xa9`) {
			t.Errorf("%d rows: a character split and escaped", n)
		}
		lines := strings.Split(out, "\n")
		col := strings.Index(lines[0], "size")
		for _, line := range lines[1 : n+1] {
			if w := twidth(line[:strings.Index(line, " 8 ")+1]); w != col {
				t.Fatalf("%d rows: size column at %d, header at %d: %q", n, w, col, line)
			}
		}
	}
}

// twidth is the width of an ASCII-and-é string in terminal columns.
func twidth(s string) int { return utf8.RuneCountInString(s) }
