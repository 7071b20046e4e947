package main

import (
	"fmt"
	"io"

	"github.com/btfsize/btfsize/btfsize"
)

// gates checks the budgets and lists the rows that fail them.
func gates(stderr io.Writer, r *btfsize.Report, fr *reportFlags) error {
	failed := btfsize.Gates{MaxRecord: fr.maxRecord, MaxWaste: fr.maxWaste}.Check(r)
	for _, f := range failed {
		fmt.Fprintf(stderr, "btfsize: gate failed: %s\n", f)
	}
	if len(failed) > 0 {
		return errGate
	}
	return nil
}
