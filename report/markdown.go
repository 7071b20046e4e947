package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/btfsize/btfsize/btfsize"
)

// markdownTable writes a GitHub-flavoured Markdown table.
func markdownTable(w io.Writer, header []string, rows [][]string) error {
	header, rows = printableCells(header, rows)
	esc := make([][]string, len(rows))
	for r, row := range rows {
		esc[r] = make([]string, len(row))
		for i, c := range row {
			esc[r][i] = mdEscape(c)
		}
	}
	if len(rows) > largeTable {
		return markdownColumns(w, header, esc)
	}
	return markdownTablewriter(w, header, esc)
}

// markdownTablewriter is markdownTable through tablewriter, of escaped cells.
func markdownTablewriter(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// markdownColumns writes what markdownTablewriter writes, without its cost
// per row (see largeTable): "| cell |" rows padded to the widest cell of
// each column, and a left-aligned separator line.
func markdownColumns(w io.Writer, header []string, rows [][]string) error {
	widths := columnWidths(header, rows)
	var line []byte
	// A line a write: w may escape what it writes, which needs whole
	// characters.
	write := func(line []byte) error {
		_, err := w.Write(append(line, '\n'))
		return err
	}
	row := func(cells []string) []byte {
		line = append(line[:0], '|')
		for i, wd := range widths {
			line = append(line, ' ')
			line = appendPadded(line, rowCell(cells, i), wd)
			line = append(line, ' ', '|')
		}
		return line
	}
	if err := write(row(header)); err != nil {
		return err
	}
	line = append(line[:0], '|')
	for _, wd := range widths {
		line = append(line, ':')
		line = append(line, strings.Repeat("-", wd+1)...)
		line = append(line, '|')
	}
	if err := write(line); err != nil {
		return err
	}
	for _, r := range rows {
		if err := write(row(r)); err != nil {
			return err
		}
	}
	return nil
}

// mdEscape keeps a cell inside its column.
func mdEscape(s string) string { return mdReplacer.Replace(s) }

var mdReplacer = strings.NewReplacer("|", `\|`, "\n", " ")

// Markdown writes r for a pull-request comment: a one-line summary, then the
// sends and the types as tables, then warnings as a list.
func Markdown(w io.Writer, r *btfsize.Report) error {
	ew := &errWriter{w: w}
	ew.printf("**btfsize**: %s\n\n", summary(r))
	if len(r.Sites) > 0 {
		var rows [][]string
		for _, s := range r.Sites {
			rows = append(rows, []string{s.Program, s.Helper, orDash(s.Map), SizeText(&s), optNum(s.RecordSize),
				optNum(s.Headroom), optNum(s.RecordsPerRing), "`" + siteType(&s) + "`", at(&s)})
		}
		ew.check(markdownTable(ew, []string{"program", "helper", "map", "size", "record", "headroom", "per ring", "type", "at"}, rows))
		ew.printf("\n")
	}
	if len(r.Types) > 0 {
		var rows [][]string
		for _, t := range r.Types {
			rows = append(rows, []string{"`" + t.Name + "`", num(t.Size), num(t.RecordSize), num(t.Headroom),
				holes(&t), num(t.Padding), num(t.OptimalSize), num(t.OptimalRecordSize)})
		}
		ew.check(markdownTable(ew, []string{"type", "size", "record", "headroom", "holes", "padding", "optimal", "optimal record"}, rows))
		ew.printf("\n")
	}
	for _, wr := range r.Warnings {
		if wr.Message != btfsize.NoSends {
			ew.printf("- %s: %s\n", wr.Object, wr.Message)
		}
	}
	return ew.err
}

// summary is one line on what the report holds.
func summary(r *btfsize.Report) string {
	var largest uint64
	for _, s := range r.Sites {
		if s.RecordSize != nil {
			largest = max(largest, *s.RecordSize)
		}
	}
	parts := []string{plural(len(r.Sites), "send"), plural(len(r.Types), "type")}
	if largest > 0 {
		parts = append(parts, fmt.Sprintf("largest record %d bytes", largest))
	}
	n := 0
	for _, wr := range r.Warnings {
		if !wr.Info {
			n++
		}
	}
	if n > 0 {
		parts = append(parts, plural(n, "warning"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// GitHub writes workflow commands: a ::warning on the source line of every
// site a warning names, and appends the Markdown report to the step summary
// file when summaryPath is set ($GITHUB_STEP_SUMMARY).
func GitHub(w io.Writer, r *btfsize.Report, summaryPath string) error {
	ew := &errWriter{w: w}
	for _, wr := range r.Warnings {
		if wr.Info {
			continue
		}
		loc := ""
		if wr.File != "" && wr.Line > 0 {
			loc = fmt.Sprintf(" file=%s,line=%d", ghProperty(wr.File), wr.Line)
		}
		ew.printf("::warning%s::%s\n", loc, ghEscape(wr.Message))
	}
	if summaryPath == "" {
		return ew.err
	}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		return err
	}
	return appendFile(summaryPath, md.Bytes())
}

// ghEscape encodes what workflow commands cannot carry in a message.
func ghEscape(s string) string { return ghReplacer.Replace(s) }

var ghReplacer = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
