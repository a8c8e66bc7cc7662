// SPDX-License-Identifier: GPL-2.0
/*
 * FTP NAT helper, the companion of nf_conntrack_ftp.ko.
 *
 * When the control connection is NATed, the address and port a PORT,
 * EPRT, 227 or 229 line announces are the ones the sender knows, not the
 * ones the peer can reach.  This module picks a port for the expectation
 * on the NAT address, rewrites the text (the TCP mangling keeps sequence
 * numbers right when its length changes) and makes the data connection
 * follow the master's NAT.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_helper.h>

#include "compat.h"
#include "nf_ftp.h"

MODULE_LICENSE("GPL");
MODULE_VERSION(NF_FTP_VERSION);
MODULE_DESCRIPTION("FTP NAT helper (companion of nf_conntrack_ftp)");
MODULE_ALIAS_NF_NAT_HELPER("ftp");

static struct nf_conntrack_nat_helper nat_helper_ftp =
	NF_CT_NAT_HELPER_INIT("ftp");

static bool keep_length;
module_param(keep_length, bool, 0644);
MODULE_PARM_DESC(keep_length,
		 "Pick the data port on the NAT address so that the rewritten PORT/EPRT/227/229 line keeps its length: no sequence adjustment, nothing for a failover to lose (falls back to the usual choice when no such port is free; default: N)");

/* Ports tried for keep_length before the usual choice. */
#define FTP_KEEP_ATTEMPTS	32

static int ftp_nat_text(char *buf, unsigned int size, const struct nf_conn *ct,
			const struct nf_ftp_match *m,
			const union nf_inet_addr *addr, u16 port, char delim)
{
	const u8 *b = (const u8 *)&addr->ip;

	switch (m->kind) {
	case NF_FTP_K_PORT:
	case NF_FTP_K_227:
		return snprintf(buf, size, "%u,%u,%u,%u,%u,%u",
				b[0], b[1], b[2], b[3], port >> 8, port & 0xff);
	case NF_FTP_K_EPRT:
		if (nf_ct_l3num(ct) == NFPROTO_IPV4)
			return snprintf(buf, size, "%c1%c%pI4%c%u%c",
					delim, delim, &addr->ip, delim, port,
					delim);
		return snprintf(buf, size, "%c2%c%pI6c%c%u%c",
				delim, delim, &addr->in6, delim, port, delim);
	case NF_FTP_K_229:
		return snprintf(buf, size, "%u", port);
	default:
		return -EINVAL;
	}
}

static unsigned int ftp_digits(unsigned int n)
{
	return n >= 10000 ? 5 : n >= 1000 ? 4 : n >= 100 ? 3 : n >= 10 ? 2 : 1;
}

/*
 * keep_length: the first free port from @start up (wrapping, 1024 and
 * above) whose text makes the replacement exactly @want bytes long, @len0
 * being its length with port 0.  Registers the expectation; returns the
 * port, or 0 if none was found in FTP_KEEP_ATTEMPTS free-port tries.
 */
static u16 ftp_nat_port_keep(struct nf_conntrack_expect *exp,
			     const struct nf_ftp_match *m, unsigned int len0,
			     unsigned int want, u16 start)
{
	unsigned int attempts = FTP_KEEP_ATTEMPTS;
	unsigned int i, port, len;

	/*
	 * Can any port of 1024 and above give that length at all?  Its two
	 * numbers take 2 to 6 digits in a PORT or 227 (where port 0 takes
	 * 2), 4 or 5 in an EPRT or 229 (where port 0 takes 1).
	 */
	if (m->kind == NF_FTP_K_PORT || m->kind == NF_FTP_K_227) {
		if (want < len0 || want > len0 + 4)
			return 0;
	} else if (want < len0 + 3 || want > len0 + 4) {
		return 0;
	}
	if (start < 1024)
		start = 1024;
	for (i = 0; i < 65536 - 1024; i++) {
		port = 1024 + (start - 1024 + i) % (65536 - 1024);
		if (m->kind == NF_FTP_K_PORT || m->kind == NF_FTP_K_227)
			len = len0 - 2 + ftp_digits(port >> 8) +
			      ftp_digits(port & 0xff);
		else
			len = len0 - 1 + ftp_digits(port);
		if (len != want)
			continue;
		exp->tuple.dst.u.tcp.port = htons(port);
		switch (nf_ct_expect_related(exp, 0)) {
		case 0:
			return port;
		case -EBUSY:
			if (--attempts)
				continue;
			fallthrough;
		default:
			return 0;
		}
	}
	return 0;
}

/*
 * The data connection is NATed like its master: expect it on the NAT
 * address, on the announced port or, if that one is taken there, on one
 * nf_nat_exp_find_port() picks at random above it.  With keep_length,
 * on the first free port from the announced one up whose digits keep the
 * line as long as it was.
 */
static int nf_nat_ftp_expect(struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			     struct nf_conntrack_expect *exp,
			     const struct nf_ftp_match *m, char delim,
			     char *buf, unsigned int size)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
	/* The address the peer knows the sender by. */
	const union nf_inet_addr *addr = &ct->tuplehash[!dir].tuple.dst.u3;
	char text[NF_FTP_ADDR_TEXT_MAX];
	u16 port;
	int len;

	exp->saved_proto.tcp.port = exp->tuple.dst.u.tcp.port;
	exp->dir = !dir;
	exp->expectfn = nf_nat_follow_master;

	port = 0;
	if (READ_ONCE(keep_length)) {
		len = ftp_nat_text(text, sizeof(text), ct, m, addr, 0, delim);
		if (len > 0 && len < sizeof(text))
			port = ftp_nat_port_keep(exp, m, len, m->len,
						 ntohs(exp->saved_proto.tcp.port));
		if (port)
			nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_NAT_KEPT);
	}
	if (!port)
		port = nf_nat_exp_find_port(exp,
					    ntohs(exp->saved_proto.tcp.port));
	if (!port) {
		net_warn_ratelimited("%s: no free port on the NAT address near %u\n",
				     m->kind == NF_FTP_K_PORT ? "PORT" :
				     m->kind == NF_FTP_K_EPRT ? "EPRT" :
				     m->kind == NF_FTP_K_227 ? "227" : "229",
				     ntohs(exp->saved_proto.tcp.port));
		return -EBUSY;
	}
	len = ftp_nat_text(text, sizeof(text), ct, m, addr, port, delim);
	if (len <= 0 || len >= sizeof(text) || len > size) {
		nf_ct_unexpect_related(exp);
		return -EINVAL;
	}
	memcpy(buf, text, len);
	return len;
}

/* Replace the range, without a sequence adjustment (the caller's job). */
static bool nf_nat_ftp_mangle(struct sk_buff *skb, struct nf_conn *ct,
			      enum ip_conntrack_info ctinfo,
			      unsigned int protoff, unsigned int off,
			      unsigned int len, const char *text,
			      unsigned int tlen)
{
	return __nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff, off, len,
					  text, tlen, false);
}

static const struct nf_ftp_nat_ops nf_nat_ftp_ops = {
	.expect	= nf_nat_ftp_expect,
	.mangle	= nf_nat_ftp_mangle,
};

static int __init nf_nat_ftp_init(void)
{
	nf_nat_helper_register(&nat_helper_ftp);
	rcu_assign_pointer(nf_ftp_nat_hook, &nf_nat_ftp_ops);
	return 0;
}

static void __exit nf_nat_ftp_fini(void)
{
	RCU_INIT_POINTER(nf_ftp_nat_hook, NULL);
	/* No packet may still be in our functions when the module goes. */
	synchronize_rcu();
	nf_nat_helper_unregister(&nat_helper_ftp);
}

module_init(nf_nat_ftp_init);
module_exit(nf_nat_ftp_fini);
