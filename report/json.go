package report

import (
	"encoding/json"
	"io"

	"github.com/btfsize/btfsize/btfsize"
)

// JSON writes r as the JSON document described in DESIGN.md: snake_case
// keys, [] for empty lists, deterministic order.
func JSON(w io.Writer, r *btfsize.Report) error {
	r.Normalize()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
