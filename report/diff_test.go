package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfsize/btfsize/btfsize"
)

// diffSite is a send of size bytes by program p to the 256 KiB ring "rb",
// with the figures btfsize computes.
func diffSite(p string, size uint64, file string, line int) *btfsize.Site {
	mapSize := uint64(256 * 1024)
	record := btfsize.RecordSize(size, btfsize.HeaderSize)
	perRing := btfsize.RecordsPerRing(mapSize, record)
	return &btfsize.Site{Object: "prog.o", Program: p, Helper: btfsize.HelperRingbufReserve, Map: "rb",
		MapSize: &mapSize, Size: &size, RecordSize: &record, RecordsPerRing: &perRing,
		Type: "struct " + p, File: file, Line: line}
}

// seedDiff is the example of the issue: 128 → 112 saves 16 bytes per record,
// 39 → 38 saves nothing, and two sends that did not change.
func seedDiff() *btfsize.Diff {
	old := &btfsize.Report{Sites: []btfsize.Site{*diffSite("exec", 128, "p.c", 10), *diffSite("note", 39, "p.c", 20),
		*diffSite("alert", 24, "p.c", 30), *diffSite("exit", 40, "p.c", 40)}}
	new := &btfsize.Report{Sites: []btfsize.Site{*diffSite("exec", 112, "p.c", 11), *diffSite("note", 38, "p.c", 21),
		*diffSite("alert", 24, "p.c", 31), *diffSite("exit", 40, "p.c", 41)}}
	return btfsize.Compare(old, new)
}

// grownDiff has a send that grows by 8 bytes per record, in a file whose
// name needs escaping in a workflow command.
func grownDiff() *btfsize.Diff {
	return btfsize.Compare(
		&btfsize.Report{Sites: []btfsize.Site{*diffSite("exec", 20, "src/a,b.c", 7)}},
		&btfsize.Report{Sites: []btfsize.Site{*diffSite("exec", 32, "src/a,b.c", 9)}})
}

func TestDiffFormats(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer) error
		want   []string // lines the output holds, in order
		absent []string
	}{
		{
			name:   "table",
			render: func(b *bytes.Buffer) error { return DiffText(b, seedDiff()) },
			want: []string{
				"program  helper           map  type          old size  new size  old record  new record  Δ record  per ring     verdict",
				"exec     ringbuf_reserve  rb   struct exec   128       112       136         120         -16       1927 → 2184  saves 16 bytes per record",
				"note     ringbuf_reserve  rb   struct note   39        38        48          48          0         5461         payload -1 byte, record unchanged (48 bytes)",
			},
		},
		{
			name:   "markdown folds what did not change",
			render: func(b *bytes.Buffer) error { return DiffMarkdown(b, seedDiff()) },
			want: []string{
				"**btfsize**: 1 send saves 16 bytes per record, 0 grow, 3 unchanged",
				"| exec    | ringbuf_reserve | rb  | `struct exec` | 128      | 112      | 136        | 120        | -16      | 1927 → 2184 | saves 16 bytes per record                    |",
				"| note    | ringbuf_reserve | rb  | `struct note` | 39       | 38       | 48         | 48         | 0        | 5461        | payload -1 byte, record unchanged (48 bytes) |",
				"<details><summary>2 unchanged</summary>",
				"| alert   | ringbuf_reserve | rb  | `struct alert` | 24       | 24       | 32         | 32         | 0        | 8191     | unchanged |",
				"</details>",
			},
		},
		{
			name:   "github warns on the new line of a send that grew",
			render: func(b *bytes.Buffer) error { return DiffGitHub(b, grownDiff(), "") },
			want: []string{
				"::warning file=src/a%2Cb.c,line=9::exec ringbuf_reserve rb (struct exec): grows by 8 bytes per record (32 → 40 bytes)",
			},
		},
		{
			name:   "github says nothing when nothing grew",
			render: func(b *bytes.Buffer) error { return DiffGitHub(b, seedDiff(), "") },
			absent: []string{"::warning"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b); err != nil {
				t.Fatal(err)
			}
			rest := b.String()
			for _, line := range tc.want {
				i := strings.Index(rest, line+"\n")
				if i < 0 {
					t.Fatalf("output lacks, or has out of order, the line\n%s\noutput:\n%s", line, b.String())
				}
				rest = rest[i+len(line):]
			}
			for _, s := range tc.absent {
				if strings.Contains(b.String(), s) {
					t.Errorf("output holds %q:\n%s", s, b.String())
				}
			}
		})
	}
}

// The step summary gets the Markdown diff, appended to what is there.
func TestDiffGitHubStepSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, md bytes.Buffer
	if err := DiffGitHub(&out, grownDiff(), path); err != nil {
		t.Fatal(err)
	}
	if err := DiffMarkdown(&md, grownDiff()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "earlier step\n" + md.String(); string(got) != want {
		t.Errorf("step summary:\n%s\nwant:\n%s", got, want)
	}
}

func TestDiffCells(t *testing.T) {
	d := func(n int64) *int64 { return &n }
	n := func(v uint64) *uint64 { return &v }
	for _, tc := range []struct{ got, want string }{
		{deltaText(d(-16)), "-16"},
		{deltaText(d(8)), "+8"},
		{deltaText(d(0)), "0"},
		{deltaText(nil), "-"},
		{perRing(&btfsize.Site{RecordsPerRing: n(1927)}, &btfsize.Site{RecordsPerRing: n(2184)}), "1927 → 2184"},
		{perRing(&btfsize.Site{RecordsPerRing: n(5461)}, &btfsize.Site{RecordsPerRing: n(5461)}), "5461"},
		{perRing(nil, &btfsize.Site{RecordsPerRing: n(10922)}), "- → 10922"},
		{perRing(&btfsize.Site{}, &btfsize.Site{}), "-"},
		{ghProperty("a,b:c%d"), "a%2Cb%3Ac%25d"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
