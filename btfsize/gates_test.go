package btfsize

import (
	"strings"
	"testing"
)

func TestGates(t *testing.T) {
	r := &Report{
		Sites: []Site{
			{Object: "o", Program: "small", Helper: HelperRingbufOutput, RecordSize: ptr[uint64](24)},
			{Object: "o", Program: "big", Helper: HelperRingbufOutput, RecordSize: ptr[uint64](608)},
			{Object: "o", Program: "unbounded", Helper: HelperRingbufOutput},
		},
		Types: []TypeInfo{
			{Object: "o", Name: "struct alert", RecordSize: 40, OptimalRecordSize: 24},
			{Object: "o", Name: "struct tight", RecordSize: 40, OptimalRecordSize: 40},
			{Object: "o", Name: "struct hostile", RecordSize: 0},
		},
	}
	got := strings.Join(Gates{MaxRecord: 128, MaxWaste: 20}.Check(r), "\n")
	for _, want := range []string{
		"big ringbuf_output (unknown type) costs 608 bytes a record, over the budget of 128",
		"unbounded ringbuf_output (unknown type) sends a size with no proven bound",
		"struct alert: the optimal order would save 16 of 40 bytes a record (40.0%)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	for _, not := range []string{"small", "tight", "hostile"} {
		if strings.Contains(got, not) {
			t.Errorf("%s failed a gate:\n%s", not, got)
		}
	}
	if out := (Gates{}).Check(r); len(out) != 0 {
		t.Errorf("no gates set, yet %q", out)
	}
}
