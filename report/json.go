package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/btfsize/btfsize/btfsize"
)

// JSON writes r as the JSON document described in DESIGN.md: snake_case
// keys, [] for empty lists, deterministic order. Each site, type and
// warning is one line, so the document streams without being built whole
// (the kernel's BTF makes a 20 MB report) and reads well in a diff.
func JSON(w io.Writer, r *btfsize.Report) error {
	r.Normalize()
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"header_size\": %d,\n", r.Version, r.HeaderSize)
	if err := jsonList(bw, "sites", r.Sites); err != nil {
		return err
	}
	bw.WriteString(",\n")
	if err := jsonList(bw, "types", r.Types); err != nil {
		return err
	}
	bw.WriteString(",\n")
	if err := jsonList(bw, "warnings", r.Warnings); err != nil {
		return err
	}
	if r.Target != nil {
		target, err := json.MarshalIndent(r.Target, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, ",\n  \"target\": %s", target)
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonList writes "name": [ … ] with one element per line.
func jsonList[T any](w *bufio.Writer, name string, items []T) error {
	fmt.Fprintf(w, "  %q: [", name)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range items {
		buf.Reset()
		if err := enc.Encode(&items[i]); err != nil {
			return err
		}
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s\n    %s", sep, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	if len(items) > 0 {
		w.WriteString("\n  ")
	}
	w.WriteString("]")
	return nil
}
