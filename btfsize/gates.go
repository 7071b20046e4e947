package btfsize

import "fmt"

// Gates are the budgets a build pipeline sets; a zero value disables a gate.
type Gates struct {
	// MaxRecord is the largest record a send may cost, in bytes.
	MaxRecord uint64
	// MaxWaste is the largest share of a record, in percent, that the
	// optimal member order may save.
	MaxWaste float64
}

// Check returns one line per row that fails a gate. Records are checked on
// the sends when the report has any, else on its types.
func (g Gates) Check(r *Report) []string {
	var out []string
	if g.MaxRecord > 0 {
		for _, s := range r.Sites {
			switch {
			case s.RecordSize == nil:
				// No bound was proven: the budget cannot be shown to hold.
				out = append(out, fmt.Sprintf("%s: %s %s (%s) sends a size with no proven bound, so it may exceed the budget of %d",
					s.Object, s.Program, s.Helper, orUnknown(s.Type), g.MaxRecord))
			case *s.RecordSize > g.MaxRecord:
				out = append(out, fmt.Sprintf("%s: %s %s (%s) costs %d bytes a record, over the budget of %d",
					s.Object, s.Program, s.Helper, orUnknown(s.Type), *s.RecordSize, g.MaxRecord))
			}
		}
		if len(r.Sites) == 0 {
			for _, t := range r.Types {
				if t.RecordSize > g.MaxRecord {
					out = append(out, fmt.Sprintf("%s: %s costs %d bytes a record, over the budget of %d",
						t.Object, t.Name, t.RecordSize, g.MaxRecord))
				}
			}
		}
	}
	if g.MaxWaste > 0 {
		for _, t := range r.Types {
			if t.RecordSize == 0 || t.OptimalRecordSize > t.RecordSize {
				continue // a report from elsewhere with figures that cannot hold
			}
			saved := t.RecordSize - t.OptimalRecordSize
			if pct := 100 * float64(saved) / float64(t.RecordSize); pct > g.MaxWaste {
				out = append(out, fmt.Sprintf("%s: %s: the optimal order would save %d of %d bytes a record (%.1f%%), over the limit of %g%%",
					t.Object, t.Name, saved, t.RecordSize, pct, g.MaxWaste))
			}
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}
