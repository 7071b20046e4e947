package btfsize

import "testing"

// The worked examples of DESIGN.md.
func TestRecordSize(t *testing.T) {
	for _, tc := range []struct {
		size, record, headroom uint64
	}{
		{112, 120, 0},
		{128, 136, 0},
		{39, 48, 1},
		{38, 48, 2},
		{20, 32, 4},
		{0, 8, 0},
		{1, 16, 7},
		{5000, 5008, 0},
	} {
		if got := RecordSize(tc.size, HeaderSize); got != tc.record {
			t.Errorf("RecordSize(%d) = %d, want %d", tc.size, got, tc.record)
		}
		if got := Headroom(tc.size, HeaderSize); got != tc.headroom {
			t.Errorf("Headroom(%d) = %d, want %d", tc.size, got, tc.headroom)
		}
	}
}

func TestTrimmingSaves(t *testing.T) {
	for _, tc := range []struct {
		old, new, saved uint64
	}{
		{128, 112, 16},
		{39, 38, 0},
		{40, 33, 0},
		{40, 32, 8},
	} {
		if got := RecordSize(tc.old, HeaderSize) - RecordSize(tc.new, HeaderSize); got != tc.saved {
			t.Errorf("%d -> %d saves %d bytes a record, want %d", tc.old, tc.new, got, tc.saved)
		}
	}
}

func TestRecordsPerRing(t *testing.T) {
	for _, tc := range []struct {
		ring, record, want uint64
	}{
		{262144, 120, 2184},
		{4096, 40, 102},
		{4096, 4096, 0}, // the producer may run at most max_entries-1 bytes ahead
		{4096, 4095, 1},
		{4096, 5008, 0},
		{0, 8, 0},
	} {
		if got := RecordsPerRing(tc.ring, tc.record); got != tc.want {
			t.Errorf("RecordsPerRing(%d, %d) = %d, want %d", tc.ring, tc.record, got, tc.want)
		}
	}
}

func TestPerfRecordSize(t *testing.T) {
	// struct perf_event_header (8) + round_up(u32 size + data, 8).
	for _, tc := range []struct{ size, want uint64 }{{32, 48}, {24, 40}, {4, 16}, {5, 24}} {
		if got := PerfRecordSize(tc.size); got != tc.want {
			t.Errorf("PerfRecordSize(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}
