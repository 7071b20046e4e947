package btfsize

// HeaderSize is the size of the header the kernel puts before every ringbuf
// record, in bytes: struct bpf_ringbuf_hdr { u32 len; u32 pg_off; }, exported
// as BPF_RINGBUF_HDR_SZ in include/uapi/linux/bpf.h.
const HeaderSize = 8

// recordAlign is the alignment of every ringbuf record, in bytes:
// __bpf_ringbuf_reserve rounds len up with round_up(size + BPF_RINGBUF_HDR_SZ, 8)
// (kernel/bpf/ringbuf.c).
const recordAlign = 8

// RecordSize is the bytes a ringbuf record of size payload bytes takes in the
// ring, header included, for a header of hdr bytes.
func RecordSize(size, hdr uint64) uint64 {
	return (size + hdr + recordAlign - 1) &^ (recordAlign - 1)
}

// Headroom is the bytes the payload may grow before its record grows.
func Headroom(size, hdr uint64) uint64 {
	return RecordSize(size, hdr) - hdr - size
}

// RecordsPerRing is how many records of record bytes fit in a ring of
// maxEntries bytes: the producer may run at most mask = max_entries - 1 bytes
// ahead of the consumer (ringbuf_avail_data_sz, __bpf_ringbuf_reserve).
func RecordsPerRing(maxEntries, record uint64) uint64 {
	if maxEntries == 0 || record == 0 {
		return 0
	}
	return (maxEntries - 1) / record
}

// PerfRecordSize is the bytes one PERF_SAMPLE_RAW sample of size payload bytes
// takes in a perf buffer: struct perf_event_header (8 bytes) and the raw data
// with its u32 size, rounded up to 8 (perf_prepare_sample, kernel/events/core.c).
func PerfRecordSize(size uint64) uint64 {
	return 8 + (size+4+7)&^7
}

// isPow2 reports whether n is a power of two.
func isPow2(n uint64) bool { return n != 0 && n&(n-1) == 0 }
