/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tiny "vmlinux" for split BTF: the UAPI enums of an old kernel (ringbuf
 * without the dynptr reserve) and kernel structs a module builds on.
 */
struct in6_addr {
	union {
		unsigned char u6_addr8[16];
		unsigned int u6_addr32[4];
	} in6_u;
};

struct sock_common {
	unsigned int skc_daddr;
	unsigned int skc_rcv_saddr;
	struct in6_addr skc_v6_daddr;
};

enum bpf_func_id { BPF_FUNC_unspec, BPF_FUNC_ringbuf_output = 130, BPF_FUNC_ringbuf_reserve = 131 };
enum bpf_map_type { BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_RINGBUF = 27 };
enum { BPF_RINGBUF_BUSY_BIT = 2147483648U, BPF_RINGBUF_DISCARD_BIT = 1073741824, BPF_RINGBUF_HDR_SZ = 8 };

struct sock_common base_sock;
enum bpf_func_id base_func;
enum bpf_map_type base_map;
int base_hdr = BPF_RINGBUF_HDR_SZ;
