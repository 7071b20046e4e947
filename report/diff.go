package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/btfsize/btfsize/btfsize"
)

// DiffText writes d as tables: the sends, then the types.
func DiffText(w io.Writer, d *btfsize.Diff) error {
	ew := &errWriter{w: w}
	if len(d.Sites) == 0 && len(d.Types) == 0 {
		ew.printf("%s\n", d.Summary())
		return ew.err
	}
	if len(d.Sites) > 0 {
		header, rows := siteDiffRows(d.Sites, plainCell)
		ew.check(render(ew, header, rows))
	}
	if len(d.Types) > 0 {
		if len(d.Sites) > 0 {
			ew.printf("\n")
		}
		header, rows := typeDiffRows(d.Types, plainCell)
		ew.check(render(ew, header, rows))
	}
	return ew.err
}

// DiffMarkdown writes d for a pull-request comment: a one-line summary, the
// sends and types that changed as tables, and the unchanged ones folded
// away in a <details> block.
func DiffMarkdown(w io.Writer, d *btfsize.Diff) error {
	ew := &errWriter{w: w}
	ew.printf("**btfsize**: %s\n", d.Summary())
	if len(d.Sites) > 0 {
		header, rows := siteDiffRows(d.Sites, codeCell)
		same := make([]bool, len(d.Sites))
		for i, s := range d.Sites {
			same[i] = s.Verdict == btfsize.VerdictUnchanged
		}
		markdownFolded(ew, header, rows, same, "unchanged")
	}
	if len(d.Types) > 0 {
		header, rows := typeDiffRows(d.Types, codeCell)
		same := make([]bool, len(d.Types))
		for i, t := range d.Types {
			same[i] = t.Verdict == btfsize.VerdictUnchanged
		}
		markdownFolded(ew, header, rows, same, "unchanged types")
	}
	return ew.err
}

// markdownFolded writes the rows that changed as a table and the rows that
// did not (same[i]) as a table folded under "N label".
func markdownFolded(ew *errWriter, header []string, rows [][]string, same []bool, label string) {
	var changed, unchanged [][]string
	for i, row := range rows {
		if same[i] {
			unchanged = append(unchanged, row)
		} else {
			changed = append(changed, row)
		}
	}
	if len(changed) > 0 {
		ew.printf("\n")
		ew.check(markdownTable(ew, header, changed))
	}
	if len(unchanged) > 0 {
		ew.printf("\n<details><summary>%d %s</summary>\n\n", len(unchanged), label)
		ew.check(markdownTable(ew, header, unchanged))
		ew.printf("\n</details>\n")
	}
}

// DiffJSON writes d as the JSON document described in DESIGN.md.
func DiffJSON(w io.Writer, d *btfsize.Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// DiffGitHub writes a ::warning workflow command on the new source line of
// every send whose record grew (of every type, when there are no sends),
// and appends the Markdown diff to the step summary file when summaryPath
// is set ($GITHUB_STEP_SUMMARY).
func DiffGitHub(w io.Writer, d *btfsize.Diff, summaryPath string) error {
	ew := &errWriter{w: w}
	sites, types := d.Grown()
	for _, s := range sites {
		loc := ""
		if s.New.File != "" {
			loc = fmt.Sprintf(" file=%s,line=%d", ghProperty(s.New.File), s.New.Line)
		}
		ew.printf("::warning%s::%s\n", loc, ghEscape(fmt.Sprintf("%s %s %s (%s): %s%s",
			s.Program, s.Helper, orDash(s.Map), siteType(s.New), s.Verdict, recordArrow(s.Old.RecordSize, s.New.RecordSize))))
	}
	if len(d.Sites) == 0 {
		for _, t := range types {
			loc := ""
			if t.New.File != "" {
				loc = fmt.Sprintf(" file=%s,line=%d", ghProperty(t.New.File), t.New.Line)
			}
			ew.printf("::warning%s::%s\n", loc, ghEscape(fmt.Sprintf("%s: %s%s",
				t.Name, t.Verdict, recordArrow(&t.Old.RecordSize, &t.New.RecordSize))))
		}
	}
	if summaryPath == "" || ew.err != nil {
		return ew.err
	}
	var md bytes.Buffer
	if err := DiffMarkdown(&md, d); err != nil {
		return err
	}
	return appendFile(summaryPath, md.Bytes())
}

// recordArrow is " (136 → 152 bytes)", or nothing when a record is unbounded.
func recordArrow(old, new *uint64) string {
	if old == nil || new == nil {
		return ""
	}
	return fmt.Sprintf(" (%d → %d bytes)", *old, *new)
}

// ghProperty encodes what a workflow command property cannot carry.
func ghProperty(s string) string { return ghPropertyReplacer.Replace(s) }

var ghPropertyReplacer = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

func plainCell(s string) string { return s }

// codeCell sets a type name in code, as Markdown does the report's.
func codeCell(s string) string { return "`" + s + "`" }

// siteDiffRows lays the sends out in columns, with an object column when
// they come from several objects; typeCell styles type names.
func siteDiffRows(sites []btfsize.SiteDiff, typeCell func(string) string) ([]string, [][]string) {
	header := []string{"program", "helper", "map", "type", "old size", "new size",
		"old record", "new record", "Δ record", "per ring", "verdict"}
	multi := manySiteObjects(sites)
	if multi {
		header = append([]string{"object"}, header...)
	}
	var rows [][]string
	for _, s := range sites {
		row := []string{s.Program, s.Helper, orDash(s.Map), typeCell(siteDiffType(&s)),
			sideSize(s.Old), sideSize(s.New), sideRecord(s.Old), sideRecord(s.New),
			deltaText(s.RecordDelta), perRing(s.Old, s.New), s.Verdict}
		if multi {
			row = append([]string{s.Object}, row...)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func manySiteObjects(sites []btfsize.SiteDiff) bool {
	for _, s := range sites {
		if s.Object != sites[0].Object {
			return true
		}
	}
	return false
}

// siteDiffType is the type sent, "old → new" when it is another one now.
func siteDiffType(s *btfsize.SiteDiff) string {
	switch {
	case s.Old == nil:
		return siteType(s.New)
	case s.New == nil:
		return siteType(s.Old)
	}
	o, n := siteType(s.Old), siteType(s.New)
	if o != n {
		return o + " → " + n
	}
	return n
}

func sideSize(s *btfsize.Site) string {
	if s == nil {
		return "-"
	}
	return SizeText(s)
}

func sideRecord(s *btfsize.Site) string {
	if s == nil {
		return "-"
	}
	return optNum(s.RecordSize)
}

// perRing is the records a ring holds, "1927 → 2184" when that changed.
func perRing(o, n *btfsize.Site) string {
	var old, new *uint64
	if o != nil {
		old = o.RecordsPerRing
	}
	if n != nil {
		new = n.RecordsPerRing
	}
	switch {
	case old == nil && new == nil:
		return "-"
	case old != nil && new != nil && *old == *new:
		return optNum(new)
	}
	return optNum(old) + " → " + optNum(new)
}

// deltaText is a delta in bytes: "-16", "+8", "0", or "-" when there is none.
func deltaText(d *int64) string {
	switch {
	case d == nil:
		return "-"
	case *d > 0:
		return fmt.Sprintf("+%d", *d)
	}
	return fmt.Sprintf("%d", *d)
}

// typeDiffRows lays the types out in columns, with an object column when
// they come from several inputs.
func typeDiffRows(types []btfsize.TypeDiff, typeCell func(string) string) ([]string, [][]string) {
	header := []string{"type", "old size", "new size", "old record", "new record", "Δ record", "verdict"}
	multi := false
	for _, t := range types {
		multi = multi || t.Object != types[0].Object
	}
	if multi {
		header = append([]string{"object"}, header...)
	}
	var rows [][]string
	for _, t := range types {
		oldSize, oldRecord, newSize, newRecord := "-", "-", "-", "-"
		if t.Old != nil {
			oldSize, oldRecord = num(t.Old.Size), num(t.Old.RecordSize)
		}
		if t.New != nil {
			newSize, newRecord = num(t.New.Size), num(t.New.RecordSize)
		}
		row := []string{typeCell(t.Name), oldSize, newSize, oldRecord, newRecord, deltaText(t.RecordDelta), t.Verdict}
		if multi {
			row = append([]string{t.Object}, row...)
		}
		rows = append(rows, row)
	}
	return header, rows
}
