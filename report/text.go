package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/btfsize/btfsize/btfsize"
)

// Options control what the text renderers show.
type Options struct {
	// Layout adds the member-by-member view and byte map of every type.
	Layout bool
}

// plainTable is a borderless table with lowercase headers, the style of
// `go test -bench` and benchstat output that pipelines read with awk.
func plainTable(w io.Writer, header []string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.Separators{BetweenColumns: tw.On}, Lines: tw.Lines{ShowHeaderLine: tw.Off}},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	t.Header(header)
	return t
}

// largeTable is the number of rows above which render aligns the columns
// itself: tablewriter spends some 25 µs a row, a quarter of a second on a
// kernel's 10,000 types. The text is the same (TestRenderColumns).
const largeTable = 200

// render writes a table without the trailing blanks of its last column,
// its cells made printable first, so that their widths are the widths shown.
func render(w io.Writer, header []string, rows [][]string) error {
	header, rows = printableCells(header, rows)
	if len(rows) > largeTable {
		return renderColumns(w, header, rows)
	}
	return renderTablewriter(w, header, rows)
}

// printableCells returns header and rows with cellText applied.
func printableCells(header []string, rows [][]string) ([]string, [][]string) {
	clean := func(row []string) []string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = cellText(c)
		}
		return out
	}
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = clean(row)
	}
	return clean(header), out
}

// renderTablewriter is render through tablewriter's plainTable.
func renderTablewriter(w io.Writer, header []string, rows [][]string) error {
	var buf bytes.Buffer
	t := plainTable(&buf, header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// renderColumns writes what render writes through tablewriter: each cell
// left-aligned in a column as wide as its widest cell and followed by two
// blanks, and no blanks at the end of a line.
func renderColumns(w io.Writer, header []string, rows [][]string) error {
	widths := columnWidths(header, rows)
	var line []byte
	for _, row := range append([][]string{header}, rows...) {
		line = line[:0]
		for i, wd := range widths {
			line = appendPadded(line, rowCell(row, i), wd+2)
		}
		// A line a write: w may escape what it writes, which needs whole
		// characters.
		if _, err := w.Write(append(bytes.TrimRight(line, " "), '\n')); err != nil {
			return err
		}
	}
	return nil
}

// cellWidth is the width of s in terminal columns, as tablewriter counts
// them.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// columnWidths is the width of the widest cell of each column.
func columnWidths(header []string, rows [][]string) []int {
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i := range widths {
			widths[i] = max(widths[i], cellWidth(rowCell(row, i)))
		}
	}
	return widths
}

// rowCell is cell i of row, "" past its end.
func rowCell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// appendPadded appends s and blanks to fill width columns.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for range width - cellWidth(s) {
		b = append(b, ' ')
	}
	return b
}

// Text writes r as tables: the sends, then the types, then warnings.
func Text(w io.Writer, r *btfsize.Report, opts Options) error {
	ew := &errWriter{w: w}
	if len(r.Sites) > 0 {
		ew.check(sitesTable(ew, r))
		hints(ew, r)
	}
	for _, obj := range objectsWithoutSites(r) {
		ew.printf("%s: no ring-buffer or perf-buffer sends\n", obj)
	}
	if len(r.Types) > 0 {
		if len(r.Sites) > 0 {
			ew.printf("\n")
		}
		ew.check(typesTable(ew, r))
		advice(ew, r)
	}
	if opts.Layout {
		ew.check(writeParallel(ew, len(r.Types), func(b []byte, i int) []byte {
			buf := bytes.NewBuffer(append(b, '\n'))
			Layout(buf, &r.Types[i], r.HeaderSize)
			return buf.Bytes()
		}))
	}
	warnings(ew, r)
	if r.Target != nil {
		target(ew, r.Target)
	}
	return ew.err
}

// objectsWithoutSites lists the objects the report says have no sends.
func objectsWithoutSites(r *btfsize.Report) []string {
	var out []string
	for _, w := range r.Warnings {
		if w.Message == btfsize.NoSends {
			out = append(out, w.Object)
		}
	}
	return out
}

func sitesTable(w io.Writer, r *btfsize.Report) error {
	multi := manyObjects(r)
	header := []string{"program", "helper", "map", "size", "record", "headroom", "per ring", "type", "source", "at"}
	if multi {
		header = append([]string{"object"}, header...)
	}
	var rows [][]string
	for _, s := range r.Sites {
		row := []string{s.Program, s.Helper, orDash(s.Map), SizeText(&s), optNum(s.RecordSize),
			optNum(s.Headroom), optNum(s.RecordsPerRing), siteType(&s), s.TypeSource, at(&s)}
		if multi {
			row = append([]string{s.Object}, row...)
		}
		rows = append(rows, row)
	}
	return render(w, header, rows)
}

func manyObjects(r *btfsize.Report) bool {
	for _, s := range r.Sites {
		if s.Object != r.Sites[0].Object {
			return true
		}
	}
	return false
}

// SizeText is a site's size: "112", "16..24", "dynamic", or "256 (snap_len)"
// for the default of a const volatile global.
func SizeText(s *btfsize.Site) string {
	switch {
	case s.SizeGlobal != "":
		return fmt.Sprintf("%d (%s)", *s.SizeDefault, s.SizeGlobal)
	case s.Size != nil:
		return strconv.FormatUint(*s.Size, 10)
	case s.SizeMin != nil && s.SizeMax != nil:
		return fmt.Sprintf("%d..%d", *s.SizeMin, *s.SizeMax)
	}
	return "dynamic"
}

func siteType(s *btfsize.Site) string {
	switch {
	case s.Type != "":
		return s.Type
	case len(s.Candidates) > 0:
		return fmt.Sprintf("ambiguous (%d candidates)", len(s.Candidates))
	}
	return "?"
}

func at(s *btfsize.Site) string {
	if s.File == "" {
		return "-"
	}
	loc := s.File
	if s.Line > 0 {
		// Line 0 is code the compiler merged from several lines.
		loc = fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	if s.CallerFile != "" {
		loc += fmt.Sprintf(" (from %s:%d)", s.CallerFile, s.CallerLine)
	}
	return loc
}

func optNum(p *uint64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatUint(*p, 10)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func typesTable(w io.Writer, r *btfsize.Report) error {
	header, rows := typeRows(r)
	return render(w, header, rows)
}

// typeRows is the header and rows of the types table.
func typeRows(r *btfsize.Report) ([]string, [][]string) {
	header := []string{"type", "size", "align", "record", "headroom", "holes", "padding", "optimal", "optimal record"}
	rows := make([][]string, 0, len(r.Types))
	for _, t := range r.Types {
		rows = append(rows, []string{t.Name, num(t.Size), num(t.Align), num(t.RecordSize), num(t.Headroom),
			holes(&t), num(t.Padding), num(t.OptimalSize), num(t.OptimalRecordSize)})
	}
	return header, rows
}

// bytesText is "1 byte" or "N bytes".
func bytesText(n uint64) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

func num(n uint64) string { return strconv.FormatUint(n, 10) }

// holes is "0", "2 (10 bytes)", or with bit holes "1 (3 bytes) +5 bits".
func holes(t *btfsize.TypeInfo) string {
	s := strconv.Itoa(t.Holes)
	if t.Holes > 0 {
		s += " (" + bytesText(t.HoleBytes) + ")"
	}
	if t.BitHoleBits > 0 {
		s += fmt.Sprintf(" +%d bits", t.BitHoleBits)
	}
	return s
}

// hints name the candidates of ambiguous sends and say how to name the
// type where nothing did.
func hints(w *errWriter, r *btfsize.Report) {
	for _, s := range r.Sites {
		switch {
		case len(s.Candidates) > 0:
			w.printf("%s (%s): one of %s\n", s.Program, at(&s), strings.Join(s.Candidates, ", "))
		case s.Hint != "":
			w.printf("%s (%s): %s\n", s.Program, at(&s), s.Hint)
		}
	}
}

// advice says which types a reorder would shrink, in fieldalignment's words.
func advice(w *errWriter, r *btfsize.Report) {
	for _, t := range r.Types {
		if t.OptimalSize >= t.Size {
			continue
		}
		w.printf("%s has size %d (ringbuf slot %d) but the optimal size is %d (ringbuf slot %d)%s\n",
			t.Name, t.Size, t.RecordSize, t.OptimalSize, t.OptimalRecordSize, saving(t.RecordSize, t.OptimalRecordSize))
	}
}

func saving(old, new uint64) string {
	if new < old {
		return fmt.Sprintf(": saves %d bytes a record", old-new)
	}
	return ": the record stays the same"
}

func warnings(w *errWriter, r *btfsize.Report) {
	first := true
	for _, wr := range r.Warnings {
		if wr.Message == btfsize.NoSends {
			continue
		}
		if first {
			w.printf("\n")
			first = false
		}
		kind := "warning"
		if wr.Info {
			kind = "note"
		}
		w.printf("%s: %s: %s\n", wr.Object, kind, wr.Message)
	}
}

func target(w *errWriter, t *btfsize.Target) {
	w.printf("\ntarget %s: record header %d bytes, ringbuf %s\n", t.BTF, t.HeaderSize, yesNo(t.Ringbuf))
	for _, h := range t.MissingHelpers {
		w.printf("  missing helper: %s\n", h)
	}
	for _, d := range t.Drift {
		w.printf("  drift: %s is %d bytes here and %d bytes on the target\n", d.Type, d.Size, d.TargetSize)
	}
}

func yesNo(b bool) string {
	if b {
		return "supported"
	}
	return "NOT supported"
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

// Write writes p with terminal controls made visible (printable): names
// come from untrusted files, and an escape sequence in one must not drive
// the terminal that shows the report.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	_, e.err = e.w.Write(printable(p))
	if e.err != nil {
		return 0, e.err
	}
	return len(p), nil
}

// printable returns p with control and format characters (terminal
// escapes, bidirectional overrides) but newline and tab, and bytes that are
// not UTF-8, written as \xNN or \uNNNN escapes.
func printable(p []byte) []byte { return escapeControls(p, true) }

// cellText is s made printable for one table cell: newlines and tabs are
// escaped too, so that every row is one line and every width counts.
func cellText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return string(escapeControls([]byte(s), false))
		}
	}
	return s
}

func escapeControls(p []byte, keepLines bool) []byte {
	clean := true
	for i := 0; i < len(p) && clean; {
		if c := p[i]; c >= 0x20 && c < 0x7f || keepLines && (c == '\n' || c == '\t') {
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		clean = !needsEscape(r, size, keepLines)
		i += size
	}
	if clean {
		return p
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case !needsEscape(r, size, keepLines):
			out = append(out, p[i:i+size]...)
		case r == utf8.RuneError || r < 0x80:
			out = fmt.Appendf(out, "\\x%02x", p[i])
			size = 1
		default:
			out = fmt.Appendf(out, "\\u%04x", r)
		}
		i += size
	}
	return out
}

func needsEscape(r rune, size int, keepLines bool) bool {
	if keepLines && (r == '\n' || r == '\t') {
		return false
	}
	return (r == utf8.RuneError && size == 1) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }

func (e *errWriter) check(err error) {
	if e.err == nil {
		e.err = err
	}
}
