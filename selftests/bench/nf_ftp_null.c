// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark reference helpers, for "make bench" only (never installed).
 *
 * Registers the helper "ftpnull" (IPv4, TCP port 21) whose help function
 * parses nothing.  It measures the floor under the FTP helpers:
 *
 *	touch=0	the helper is called and returns at once: the price of
 *		having a helper attached at all;
 *	touch=1	it also reads every payload byte once, the way ours does
 *		(skb_seq_read(), eight bytes at a time, no copy), and folds
 *		them into one word: the least any helper that looks at every
 *		line of a segment must pay.
 *
 * The kernel's helper copies each segment and looks at its first line
 * only; ours examines every line.  Neither can beat touch=1 on the scan
 * throughput bench, and nothing beats touch=0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("FTP helper benchmark reference: attached, parses nothing");

static bool touch;
module_param(touch, bool, 0644);
MODULE_PARM_DESC(touch,
		 "read every payload byte of a segment once (default off: return at once)");

static const struct nf_conntrack_expect_policy null_exp_policy = {
	.max_expected	= 1,
	.timeout	= 5 * 60,
};

static struct nf_conntrack_helper null_helper;

/* Every payload byte, read once in place; folded so it is not elided. */
static u64 null_read(struct sk_buff *skb, unsigned int dataoff)
{
	unsigned int consumed = 0, n, i;
	struct skb_seq_state ss;
	const u8 *data;
	u64 acc = 0, w;

	skb_prepare_seq_read(skb, dataoff, skb->len, &ss);
	while ((n = skb_seq_read(consumed, &data, &ss)) != 0) {
		for (i = 0; i + sizeof(w) <= n; i += sizeof(w)) {
			memcpy(&w, data + i, sizeof(w));
			acc ^= w;
		}
		for (; i < n; i++)
			acc ^= data[i];
		consumed += n;
	}
	return acc;
}

static int null_help(struct sk_buff *skb, unsigned int protoff,
		     struct nf_conn *ct, enum ip_conntrack_info ctinfo)
{
	const struct tcphdr *th;
	unsigned int dataoff;
	struct tcphdr _th;
	u64 acc;

	if (ctinfo != IP_CT_ESTABLISHED && ctinfo != IP_CT_ESTABLISHED_REPLY)
		return NF_ACCEPT;
	if (!READ_ONCE(touch))
		return NF_ACCEPT;
	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return NF_ACCEPT;
	dataoff = protoff + th->doff * 4;
	if (dataoff >= skb->len)
		return NF_ACCEPT;
	acc = null_read(skb, dataoff);
	barrier_data(&acc);
	return NF_ACCEPT;
}

static int __init nf_ftp_null_init(void)
{
	nf_ct_helper_init(&null_helper, AF_INET, IPPROTO_TCP, "ftpnull", 21,
			  21, 21, &null_exp_policy, 0, null_help, NULL,
			  THIS_MODULE);
	return nf_conntrack_helper_register(&null_helper);
}

static void __exit nf_ftp_null_fini(void)
{
	nf_conntrack_helper_unregister(&null_helper);
}

module_init(nf_ftp_null_init);
module_exit(nf_ftp_null_fini);
