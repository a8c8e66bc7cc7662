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

/* How many ports past the announced one we try before giving up. */
#define FTP_NAT_PORT_TRIES	128
/* Where the search wraps to: never onto the privileged ports. */
#define FTP_NAT_PORT_WRAP	1024

/* Longest replacement: "|2|" + IPv6 text (45) + "|65535|". */
#define FTP_NAT_TEXT_MAX	64

static struct nf_conntrack_nat_helper nat_helper_ftp =
	NF_CT_NAT_HELPER_INIT("ftp");

/*
 * Register the expectation on the announced port or, if that one is
 * taken on the NAT address, on one of the next FTP_NAT_PORT_TRIES - 1.
 * Returns the port, or 0 when none was free.
 */
static u16 ftp_nat_port(struct nf_conntrack_expect *exp, u16 port)
{
	unsigned int i;

	for (i = 0; i < FTP_NAT_PORT_TRIES; i++) {
		int ret;

		exp->tuple.dst.u.tcp.port = htons(port);
		ret = nf_ct_expect_related(exp, 0);
		if (ret == 0)
			return port;
		if (ret != -EBUSY)
			return 0;
		port = port == 65535 ? FTP_NAT_PORT_WRAP : port + 1;
	}
	return 0;
}

static const char *ftp_nat_kind(const struct nf_ftp_match *m)
{
	switch (m->kind) {
	case NF_FTP_K_PORT:
		return "PORT";
	case NF_FTP_K_EPRT:
		return "EPRT";
	case NF_FTP_K_227:
		return "227";
	default:
		return "229";
	}
}

static int ftp_nat_text(char *buf, const struct nf_conn *ct,
			const struct nf_ftp_match *m,
			const union nf_inet_addr *addr, u16 port, char delim)
{
	const u8 *b = (const u8 *)&addr->ip;

	switch (m->kind) {
	case NF_FTP_K_PORT:
	case NF_FTP_K_227:
		return snprintf(buf, FTP_NAT_TEXT_MAX, "%u,%u,%u,%u,%u,%u",
				b[0], b[1], b[2], b[3], port >> 8, port & 0xff);
	case NF_FTP_K_EPRT:
		if (nf_ct_l3num(ct) == NFPROTO_IPV4)
			return snprintf(buf, FTP_NAT_TEXT_MAX, "%c1%c%pI4%c%u%c",
					delim, delim, &addr->ip, delim, port,
					delim);
		return snprintf(buf, FTP_NAT_TEXT_MAX, "%c2%c%pI6c%c%u%c",
				delim, delim, &addr->in6, delim, port, delim);
	case NF_FTP_K_229:
		return snprintf(buf, FTP_NAT_TEXT_MAX, "%u", port);
	default:
		return -EINVAL;
	}
}

/* Replace the range with @text, keeping sequence numbers right. */
static bool ftp_nat_splice(struct sk_buff *skb, struct nf_conn *ct,
			   enum ip_conntrack_info ctinfo, unsigned int protoff,
			   struct nf_ftp_nat_req *req, const char *text,
			   unsigned int len)
{
	if (!nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff, req->matchoff,
				      req->matchlen, text, len))
		return false;
	req->delta = (int)len - (int)req->matchlen;
	return true;
}

static unsigned int nf_nat_ftp(struct sk_buff *skb, struct nf_conn *ct,
			       enum ip_conntrack_info ctinfo,
			       unsigned int protoff, struct nf_ftp_nat_req *req,
			       struct nf_conntrack_expect *exp)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
	const struct nf_ftp_match *m = req->match;
	/* The address the peer knows the sender by. */
	const union nf_inet_addr *addr = &ct->tuplehash[!dir].tuple.dst.u3;
	char stackbuf[FTP_NAT_TEXT_MAX], *buf = stackbuf;
	unsigned int size = sizeof(stackbuf);
	unsigned int ret = NF_DROP;
	char delim;
	u16 port;
	int len;

	if (!m)
		return ftp_nat_splice(skb, ct, ctinfo, protoff, req,
				      req->prefix, req->prefixlen) ?
		       NF_ACCEPT : NF_DROP;

	if (req->prefixlen + req->suffixlen) {
		size += req->prefixlen + req->suffixlen;
		buf = kmalloc(size, GFP_ATOMIC);
		if (!buf)
			return NF_DROP;
	}
	delim = req->line[m->off];

	/* The data connection is NATed like its master. */
	exp->saved_proto.tcp.port = exp->tuple.dst.u.tcp.port;
	exp->dir = !dir;
	exp->expectfn = nf_nat_follow_master;

	port = ftp_nat_port(exp, ntohs(exp->saved_proto.tcp.port));
	if (!port) {
		net_warn_ratelimited("%s: no free port on the NAT address near %u\n",
				     ftp_nat_kind(m),
				     ntohs(exp->saved_proto.tcp.port));
		goto out;
	}

	if (req->prefixlen)
		memcpy(buf, req->prefix, req->prefixlen);
	len = ftp_nat_text(buf + req->prefixlen, ct, m, addr, port, delim);
	if (len <= 0 || len >= FTP_NAT_TEXT_MAX)
		goto fail;
	len += req->prefixlen;
	if (req->suffixlen) {
		memcpy(buf + len, req->suffix, req->suffixlen);
		len += req->suffixlen;
	}
	if (!ftp_nat_splice(skb, ct, ctinfo, protoff, req, buf, len))
		goto fail;
	nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_NAT_REWRITES);
	ret = NF_ACCEPT;
	goto out;
fail:
	net_warn_ratelimited("%s: cannot rewrite the packet\n", ftp_nat_kind(m));
	nf_ct_unexpect_related(exp);
out:
	if (buf != stackbuf)
		kfree(buf);
	return ret;
}

static int __init nf_nat_ftp_init(void)
{
	nf_nat_helper_register(&nat_helper_ftp);
	rcu_assign_pointer(nf_ftp_nat_hook, nf_nat_ftp);
	return 0;
}

static void __exit nf_nat_ftp_fini(void)
{
	RCU_INIT_POINTER(nf_ftp_nat_hook, NULL);
	/* No packet may still be in nf_nat_ftp() when the module goes. */
	synchronize_rcu();
	nf_nat_helper_unregister(&nat_helper_ftp);
}

module_init(nf_nat_ftp_init);
module_exit(nf_nat_ftp_fini);
