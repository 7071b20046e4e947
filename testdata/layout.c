// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: struct layouts for the size, hole and padding computations.
 *
 * Most types are only kept in BTF by the unused global pointers at the end
 * of the type section, the pattern projects use to export event types to
 * their user space code generators. struct local_only is used only as a
 * stack variable, so it is described by DWARF but absent from BTF.
 */
#include "bpf_defs.h"

/* Bitfields with bit holes and an unnamed padding bitfield. */
struct bitfields {
	__u32 kind:4;
	__u32 prio:3;
	__u32 level:20;
	__u32 big:10;		/* does not fit after level: 5-bit hole */
	__u32 :4;		/* unnamed padding bitfield */
	__u8 tag;
	__u64 mask:40;
	__u64 rest:30;		/* does not fit after mask: 24-bit hole */
	__u16 end;
};

/* 15 bytes, alignment 1. */
struct packed_hdr {
	__u8 version;
	__u32 len;
	__u16 port;
	__u64 ts;
} __attribute__((packed));

/* A member aligned to 16: 12-byte hole after id, 14 bytes of tail padding. */
struct aligned_member {
	__u32 id;
	__u8 key[16] __attribute__((aligned(16)));
	__u16 tail;
};

/* Flexible array member: sizeof is 8, the array adds nothing. */
struct flex_msg {
	__u32 len;
	__u16 kind;
	__u8 data[];
};

union layout_union {
	__u64 whole;
	__u32 words[3];
	__u8 byte;
};

/* 1-byte enum. */
enum small_kind {
	SMALL_A = 0,
	SMALL_B = 1,
	SMALL_C = 255,
} __attribute__((packed));

/* 4-byte enum. */
enum normal_kind {
	NORMAL_A = 0,
	NORMAL_B = 1 << 20,
};

/* 8-byte enum: a value does not fit in 32 bits. */
enum wide_kind {
	WIDE_A = 0,
	WIDE_B = 0x100000000ULL,
};

/* 1 + 3 hole + 4 + 8 = 16 bytes. */
struct with_enums {
	enum small_kind k1;
	enum normal_kind k4;
	enum wide_kind k8;
};

/* 60 + 1 + 3 padding = 64 bytes. */
struct matrix {
	__u32 m[3][5];
	__u8 tag;
};

/* Exactly 128 bytes: a ring buffer record of 128 + 8 header = 136 bytes. */
struct rec128 {
	__u64 ts;
	__u32 pid;
	__u32 tid;
	char data[112];
};

/* Exactly 39 bytes of chars: record of 39 + 8 = 47, rounded to 48 bytes. */
struct rec39 {
	char kind;
	char name[30];
	char tail[8];
};

/* Used only as a stack variable below: in DWARF, not in BTF. */
struct local_only {
	__u64 ts;
	__u16 code;
	__u32 pid;
	__u8 flag;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 4096);
} layout_rb SEC(".maps");

const struct bitfields *unused_bitfields __attribute__((unused));
const struct packed_hdr *unused_packed_hdr __attribute__((unused));
const struct aligned_member *unused_aligned_member __attribute__((unused));
const struct flex_msg *unused_flex_msg __attribute__((unused));
const union layout_union *unused_layout_union __attribute__((unused));
const struct with_enums *unused_with_enums __attribute__((unused));
const struct matrix *unused_matrix __attribute__((unused));
const struct rec128 *unused_rec128 __attribute__((unused));
const struct rec39 *unused_rec39 __attribute__((unused));

SEC("tp/syscalls/sys_enter_nanosleep")
int layout_probe(void *ctx)
{
	struct local_only lo = {};
	struct rec128 *r;
	struct rec39 *s;

	r = bpf_ringbuf_reserve(&layout_rb, sizeof(struct rec128), 0);
	if (r) {
		r->ts = bpf_ktime_get_ns();
		r->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_ringbuf_submit(r, 0);
	}

	s = bpf_ringbuf_reserve(&layout_rb, sizeof(struct rec39), 0);
	if (s) {
		s->kind = 'x';
		bpf_get_current_comm(&s->name, 16);
		bpf_ringbuf_submit(s, 0);
	}

	lo.ts = bpf_ktime_get_ns();
	lo.pid = bpf_get_current_pid_tgid() >> 32;
	lo.code = 7;
	lo.flag = 1;
	bpf_ringbuf_output(&layout_rb, &lo, sizeof(lo), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
