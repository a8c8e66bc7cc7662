// SPDX-License-Identifier: GPL-2.0
/*
 * cthelper - take the helper off conntrack entries through ctnetlink, for
 * the stress selftest (selftests/debug/stress.sh).
 *
 *   cthelper detach [--dport PORT]
 *
 * Every TCP entry (IPv4 and IPv6) whose original direction goes to PORT
 * (default 21) gets an update with an empty helper name: the kernel drops
 * the entry's expectations and detaches its helper while packets of the
 * connection may be in the helper on another CPU.  Entries that vanish
 * meanwhile are skipped.
 *
 * Prints "detached N of M" (M: entries to PORT seen).  Exit status 0, or 2
 * on a usage or netlink error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#define MAX_ENTRIES 4096

struct found {
	uint16_t dport;
	unsigned int n;
	struct nf_conntrack *ct[MAX_ENTRIES];
};

static int collect(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		   void *data)
{
	struct found *f = data;
	struct nf_conntrack *upd;

	(void)type;
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_TCP ||
	    ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)) != f->dport ||
	    f->n >= MAX_ENTRIES)
		return NFCT_CB_CONTINUE;
	upd = nfct_new();
	if (!upd)
		return NFCT_CB_STOP;
	/* The tuple names the entry; the helper name is the only change. */
	nfct_copy(upd, ct, NFCT_CP_ORIG);
	if (nfct_attr_is_set(ct, ATTR_ZONE))
		nfct_set_attr_u16(upd, ATTR_ZONE,
				  nfct_get_attr_u16(ct, ATTR_ZONE));
	nfct_set_attr(upd, ATTR_HELPER_NAME, "");
	f->ct[f->n++] = upd;
	return NFCT_CB_CONTINUE;
}

int main(int argc, char **argv)
{
	static struct found f = { .dport = 21 };
	struct nfct_handle *h;
	uint32_t family = AF_UNSPEC;
	unsigned int i, done = 0;
	char *end;

	if (argc < 2 || strcmp(argv[1], "detach")) {
		fprintf(stderr, "usage: cthelper detach [--dport PORT]\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[2], "--dport")) {
		unsigned long p = strtoul(argv[3], &end, 10);

		if (*end || !p || p > 65535) {
			fprintf(stderr, "cthelper: bad port '%s'\n", argv[3]);
			return 2;
		}
		f.dport = p;
	} else if (argc != 2) {
		fprintf(stderr, "usage: cthelper detach [--dport PORT]\n");
		return 2;
	}

	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		perror("cthelper: nfct_open");
		return 2;
	}
	nfct_callback_register(h, NFCT_T_ALL, collect, &f);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
		perror("cthelper: dump");
		nfct_close(h);
		return 2;
	}
	nfct_callback_unregister(h);

	for (i = 0; i < f.n; i++) {
		if (nfct_query(h, NFCT_Q_UPDATE, f.ct[i]) == 0)
			done++;
		else if (errno != ENOENT && errno != EBUSY)
			perror("cthelper: update");
		nfct_destroy(f.ct[i]);
	}
	nfct_close(h);
	printf("detached %u of %u\n", done, f.n);
	return 0;
}
