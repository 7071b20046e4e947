/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A module whose BTF is split on base.btf: it reuses the base's structs. */
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

/* 40 bytes: 7-byte hole after proto. */
struct nf_conn_tuple {
	struct sock_common sk;
	unsigned char proto;
	unsigned long long ts;
};

struct nf_conn_tuple module_tuple;
