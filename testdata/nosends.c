// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: an object that sends nothing; btfsize says so and reports its types. */
#include "bpf_defs.h"

struct counter {
	__u64 packets;
	__u32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

SEC("xdp")
int count_packets(void *ctx)
{
	__u32 key = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);

	if (c)
		c->packets++;
	return 2; /* XDP_PASS */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
