// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven unit tests for nf_ftp_parse.c (built directly from
 * ../../nf_ftp_parse.c).  Prints "ok N - ..." / "not ok N - ..." per
 * case and a last line "N passed, N failed"; exits nonzero on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "nf_ftp_parse.h"

static unsigned int n_case, n_pass, n_fail;
static char why[1024];

static void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Record the first reason a case failed. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static void report(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Close a case: ok/not ok from whether fail() was called since. */
static void report(const char *fmt, ...)
{
	va_list ap;

	n_case++;
	if (why[0]) {
		n_fail++;
		printf("# %s\n", why);
		printf("not ok %u - ", n_case);
	} else {
		n_pass++;
		printf("ok %u - ", n_case);
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	why[0] = 0;
}

/* ------------------------------------------------------------------ */
/* A small connection: state, hold buffers, policy, stream offsets.    */

#define C4 "192.0.2.10"
#define S4 "198.51.100.20"
#define C6 "2001:db8::10"
#define S6 "2001:db8::20"

struct conn {
	struct nf_ftp_state st;
	char hold[2][NF_FTP_LINE_MAX];
	u8 family;
	struct nf_ftp_policy pol;
	union nf_ftp_addr addr[2];	/* sender per direction */
	long base[2];			/* stream offset of the segment */
	unsigned int overflows;
	unsigned int hold_overflows;
	/* results */
	int nlines;
	int ninteresting;		/* lines with verdict != NONE */
	enum nf_ftp_verdict v;		/* of the last line */
	struct nf_ftp_match m;		/* of the last line */
	char text[NF_FTP_LINE_MAX + 1];	/* last line */
	unsigned int text_len;
	char match[NF_FTP_LINE_MAX + 1];	/* text at m.off/m.len */
	long match_abs;			/* stream offset of the match */
	long line_abs;			/* stream offset of the last line */
};

static void parse_addr(const char *txt, union nf_ftp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strchr(txt, ':')) {
		if (inet_pton(AF_INET6, txt, a->ip6) != 1)
			abort();
	} else if (inet_pton(AF_INET, txt, &a->ip) != 1) {
		abort();
	}
}

static void conn_init(struct conn *c, u8 family, bool loose, bool pairing,
		      u16 min_port)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->pol.loose = loose;
	c->pol.pairing = pairing;
	c->pol.min_port = min_port;
	parse_addr(family == NF_FTP_AF_INET ? C4 : C6, &c->addr[NF_FTP_CLIENT]);
	parse_addr(family == NF_FTP_AF_INET ? S4 : S6, &c->addr[NF_FTP_SERVER]);
}

/* Feed one segment as the module would. */
static void conn_seg(struct conn *c, enum nf_ftp_dir dir, const char *data,
		     unsigned int len)
{
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	enum nf_ftp_verdict v;
	unsigned int pos = 0;

	if (nf_ftp_tls_segment(&c->st, data, len)) {
		c->base[dir] += len;
		return;
	}
	while (nf_ftp_next_line(&c->st, dir, c->hold[dir], data, len, &pos,
				&line, &c->overflows) == 1) {
		if (line.len >= NF_FTP_LINE_MAX)
			fail("line length %u", line.len);
		if (line.start >= 0 && line.text != data + line.start)
			fail("in-place line not at data + start");
		if (line.start < 0 && line.text != c->hold[dir])
			fail("held line not in hold buffer");
		v = nf_ftp_process_line(&c->st, dir, line.text, line.len,
					c->family, &c->addr[dir], &c->pol, &m);
		c->nlines++;
		c->v = v;
		c->m = m;
		memcpy(c->text, line.text, line.len);
		c->text[line.len] = 0;
		c->text_len = line.len;
		c->line_abs = c->base[dir] + line.start;
		if (v != NF_FTP_V_NONE)
			c->ninteresting++;
		c->match[0] = 0;
		c->match_abs = -1;
		if (m.kind == NF_FTP_K_PORT || m.kind == NF_FTP_K_EPRT ||
		    m.kind == NF_FTP_K_227 || m.kind == NF_FTP_K_229) {
			if ((unsigned int)m.off + m.len > line.len) {
				fail("off %u + len %u > line %u", m.off, m.len,
				     line.len);
			} else {
				memcpy(c->match, line.text + m.off, m.len);
				c->match[m.len] = 0;
				c->match_abs = c->line_abs + m.off;
			}
		}
	}
	if (pos > len)
		fail("pos %u > len %u", pos, len);
	else if (nf_ftp_hold(&c->st, dir, c->hold[dir], data + pos, len - pos))
		c->hold_overflows++;
	if (c->st.held[dir] > NF_FTP_LINE_MAX)
		fail("held %u", c->st.held[dir]);
	c->base[dir] += len;
}

 /* A segment from a string literal. */
#define SEG(c, d, s)	conn_seg(c, d, s, sizeof(s) - 1)

/* Feed "C:line\n" / "S:line\n" scripts; each line gets "\r\n". */
static void conn_script(struct conn *c, const char *script)
{
	char buf[NF_FTP_LINE_MAX + 8];
	const char *p = script, *e;
	enum nf_ftp_dir dir;
	size_t n;

	while (p && *p) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		dir = p[0] == 'S' ? NF_FTP_SERVER : NF_FTP_CLIENT;
		n = e - p - 2;
		if (n + 2 > sizeof(buf))
			abort();
		memcpy(buf, p + 2, n);
		memcpy(buf + n, "\r\n", 2);
		conn_seg(c, dir, buf, n + 2);
		p = *e ? e + 1 : e;
	}
}

/* ------------------------------------------------------------------ */
/* Table of single-line cases.                                          */

#define P_LOOSE		1
#define P_NOPAIR	2
#define FL(x)		((x) | 0x10000)
#define ML(x)		((x) | 0x10000)
#define L(s)		.line = (s), .linelen = sizeof(s) - 1

#define F_PASV		NF_FTP_F_PASV
#define F_EPSV		NF_FTP_F_EPSV
#define F_AUTH		NF_FTP_F_AUTH
#define F_TLS		NF_FTP_F_TLS

#define CL		.dir = NF_FTP_CLIENT
#define SV		.dir = NF_FTP_SERVER
#define V6		.fam = NF_FTP_AF_INET6

#define EXPECT		.v = NF_FTP_V_EXPECT
#define REFUSE(r)	.v = NF_FTP_V_REFUSE, .reason = NF_FTP_R_##r
#define KIND(k)		.kind = NF_FTP_K_##k

struct pcase {
	const char *desc;
	u8 fam;			/* 0: IPv4 */
	u8 pol;			/* P_* */
	u16 min_port;
	u16 flags;		/* state flags before */
	u16 mlcode;		/* mlcode before */
	const char *pre;	/* script run before (after flags/mlcode) */
	enum nf_ftp_dir dir;
	const char *line;	/* raw bytes, terminator included */
	unsigned int linelen;
	enum nf_ftp_verdict v;
	enum nf_ftp_kind kind;
	enum nf_ftp_reason reason;
	const char *addr;	/* expected m.addr, or NULL */
	int port;		/* expected m.port, or 0 */
	const char *match;	/* expected text at m.off/m.len, or NULL */
	int flags_after;	/* FL(x) to check */
	int mlcode_after;	/* ML(x) to check */
};

static const struct pcase pcases[] = {
	/* PORT */
	{ "PORT valid, CRLF", CL, L("PORT 192,0,2,10,4,1\r\n"), EXPECT,
	  KIND(PORT), .addr = C4, .port = 1025, .match = "192,0,2,10,4,1" },
	{ "PORT valid, LF only", CL, L("PORT 192,0,2,10,4,1\n"), EXPECT,
	  KIND(PORT), .addr = C4, .port = 1025, .match = "192,0,2,10,4,1" },
	{ "port lower case", CL, L("port 192,0,2,10,4,1\r\n"), EXPECT,
	  KIND(PORT), .port = 1025, .match = "192,0,2,10,4,1" },
	{ "PoRt mixed case", CL, L("PoRt 192,0,2,10,4,1\r\n"), EXPECT,
	  KIND(PORT), .port = 1025 },
	{ "PORT several spaces after verb", CL,
	  L("PORT   192,0,2,10,4,1\r\n"), EXPECT, KIND(PORT), .port = 1025,
	  .match = "192,0,2,10,4,1" },
	{ "PORT trailing spaces", CL, L("PORT 192,0,2,10,4,1   \r\n"), EXPECT,
	  KIND(PORT), .match = "192,0,2,10,4,1" },
	{ "PORT trailing text", CL, L("PORT 192,0,2,10,4,1 x\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT space inside the numbers", CL,
	  L("PORT 192, 0,2,10,4,1\r\n"), REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT five numbers", CL, L("PORT 192,0,2,10,4\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT seven numbers", CL, L("PORT 192,0,2,10,4,1,5\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT empty number", CL, L("PORT 192,,2,10,4,1\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT negative number", CL, L("PORT -192,0,2,10,4,1\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT octet 256", CL, L("PORT 192,0,256,10,4,1\r\n"),
	  REFUSE(NUMBER), KIND(PORT) },
	{ "PORT huge digit run", CL,
	  L("PORT 99999999999999999999,0,2,10,4,1\r\n"), REFUSE(NUMBER),
	  KIND(PORT) },
	{ "PORT huge digit run in p2", CL,
	  L("PORT 192,0,2,10,4,18446744073709551617\r\n"), REFUSE(NUMBER),
	  KIND(PORT) },
	{ "PORT four-digit octet", CL, L("PORT 0192,0,2,10,4,1\r\n"),
	  REFUSE(NUMBER), KIND(PORT) },
	{ "PORT leading zeros accepted", CL,
	  L("PORT 192,000,002,010,004,001\r\n"), EXPECT, KIND(PORT),
	  .addr = C4, .port = 1025, .match = "192,000,002,010,004,001" },
	{ "PORT port 0", CL, L("PORT 192,0,2,10,0,0\r\n"), REFUSE(NUMBER),
	  KIND(PORT) },
	{ "PORT p1 256", CL, L("PORT 192,0,2,10,256,1\r\n"), REFUSE(NUMBER),
	  KIND(PORT) },
	{ "PORT port 65535", CL, L("PORT 192,0,2,10,255,255\r\n"), EXPECT,
	  KIND(PORT), .port = 65535, .match = "192,0,2,10,255,255" },
	{ "PORT port 1 with min_port 0", CL, L("PORT 192,0,2,10,0,1\r\n"),
	  EXPECT, KIND(PORT), .port = 1 },
	{ "PORT 1023 below min_port 1024", CL, .min_port = 1024,
	  L("PORT 192,0,2,10,3,255\r\n"), REFUSE(LOW_PORT), KIND(PORT),
	  .port = 1023 },
	{ "PORT 1024 at min_port 1024", CL, .min_port = 1024,
	  L("PORT 192,0,2,10,4,0\r\n"), EXPECT, KIND(PORT), .port = 1024 },
	{ "PORT third-party address refused", CL,
	  L("PORT 10,0,0,1,4,1\r\n"), REFUSE(THIRD_PARTY), KIND(PORT),
	  .addr = "10.0.0.1" },
	{ "PORT third-party address, loose", CL, .pol = P_LOOSE,
	  L("PORT 10,0,0,1,4,1\r\n"), EXPECT, KIND(PORT), .addr = "10.0.0.1",
	  .port = 1025 },
	{ "PORT third party checked before low port", CL, .min_port = 2000,
	  L("PORT 10,0,0,1,4,1\r\n"), REFUSE(THIRD_PARTY), KIND(PORT) },
	{ "PORT without argument", CL, L("PORT\r\n"), REFUSE(SYNTAX),
	  KIND(PORT) },
	{ "PORT with only spaces", CL, L("PORT   \r\n"), REFUSE(SYNTAX),
	  KIND(PORT) },
	{ "PORTX is not PORT", CL, L("PORTX 192,0,2,10,4,1\r\n"),
	  .v = NF_FTP_V_NONE, KIND(NONE) },
	{ "PORT followed by a tab is not PORT", CL,
	  L("PORT\t192,0,2,10,4,1\r\n"), .v = NF_FTP_V_NONE, KIND(NONE) },
	{ "leading space: not a command", CL,
	  L(" PORT 192,0,2,10,4,1\r\n"), .v = NF_FTP_V_NONE, KIND(NONE) },
	{ "PORT with NUL byte", CL, L("PORT 192,0\0,2,10,4,1\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT with NUL after the numbers", CL,
	  L("PORT 192,0,2,10,4,1\0\r\n"), REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT with high byte", CL, L("PORT 192,0,2,10,4,1 \xff\r\n"),
	  REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT with a lone CR inside", CL,
	  L("PORT 192,0,2,10,4,1\rx\r\n"), REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT with CR CR LF: one CR stripped", CL,
	  L("PORT 192,0,2,10,4,1\r\r\n"), REFUSE(SYNTAX), KIND(PORT) },
	{ "PORT on an IPv6 connection", CL, V6, .pol = P_LOOSE,
	  L("PORT 192,0,2,10,4,1\r\n"), REFUSE(FAMILY), KIND(PORT),
	  .match = "192,0,2,10,4,1" },

	/* EPRT */
	{ "EPRT IPv4", CL, L("EPRT |1|192.0.2.10|1025|\r\n"), EXPECT,
	  KIND(EPRT), .addr = C4, .port = 1025,
	  .match = "|1|192.0.2.10|1025|" },
	{ "eprt lower case, LF", CL, L("eprt |1|192.0.2.10|1025|\n"), EXPECT,
	  KIND(EPRT), .match = "|1|192.0.2.10|1025|" },
	{ "EPRT delimiter !", CL, L("EPRT  !1!192.0.2.10!65535!  \r\n"),
	  EXPECT, KIND(EPRT), .port = 65535, .match = "!1!192.0.2.10!65535!" },
	{ "EPRT IPv6 compressed", CL, V6, L("EPRT |2|2001:db8::10|1025|\r\n"),
	  EXPECT, KIND(EPRT), .addr = C6, .port = 1025,
	  .match = "|2|2001:db8::10|1025|" },
	{ "EPRT IPv6 full form", CL, V6,
	  L("EPRT |2|2001:0db8:0000:0000:0000:0000:0000:0010|1025|\r\n"),
	  EXPECT, KIND(EPRT), .addr = C6,
	  .match = "|2|2001:0db8:0000:0000:0000:0000:0000:0010|1025|" },
	{ "EPRT IPv6 on an IPv4 connection", CL, .pol = P_LOOSE,
	  L("EPRT |2|2001:db8::10|1025|\r\n"), REFUSE(FAMILY), KIND(EPRT),
	  .match = "|2|2001:db8::10|1025|" },
	{ "EPRT IPv4 on an IPv6 connection", CL, V6, .pol = P_LOOSE,
	  L("EPRT |1|192.0.2.10|1025|\r\n"), REFUSE(FAMILY), KIND(EPRT) },
	{ "EPRT af 3", CL, L("EPRT |3|192.0.2.10|1025|\r\n"), REFUSE(SYNTAX),
	  KIND(EPRT) },
	{ "EPRT af 01", CL, L("EPRT |01|192.0.2.10|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT mismatched delimiters", CL,
	  L("EPRT |1!192.0.2.10!1025!\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT last delimiter differs", CL,
	  L("EPRT |1|192.0.2.10|1025!\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT digit delimiter", CL, L("EPRT 71719.0.2.10717777\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT DEL delimiter", CL, L("EPRT \x7f" "1\x7f" "192.0.2.10\x7f"
	  "1025\x7f\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT missing last delimiter", CL, L("EPRT |1|192.0.2.10|1025\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT missing port", CL, L("EPRT |1|192.0.2.10||\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT port 0", CL, L("EPRT |1|192.0.2.10|0|\r\n"), REFUSE(NUMBER),
	  KIND(EPRT) },
	{ "EPRT port 65536", CL, L("EPRT |1|192.0.2.10|65536|\r\n"),
	  REFUSE(NUMBER), KIND(EPRT) },
	{ "EPRT six-digit port", CL, L("EPRT |1|192.0.2.10|001025|\r\n"),
	  REFUSE(NUMBER), KIND(EPRT) },
	{ "EPRT huge port", CL,
	  L("EPRT |1|192.0.2.10|99999999999999999999|\r\n"), REFUSE(NUMBER),
	  KIND(EPRT) },
	{ "EPRT octet 256", CL, L("EPRT |1|192.0.2.256|1025|\r\n"),
	  REFUSE(NUMBER), KIND(EPRT) },
	{ "EPRT huge octet", CL, L("EPRT |1|99999999999999999999.0.2.1|1025|\r\n"),
	  REFUSE(NUMBER), KIND(EPRT) },
	{ "EPRT octet with leading zero", CL,
	  L("EPRT |1|192.0.2.010|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT dotted quad with colons", CL,
	  L("EPRT |1|192:0:2:10|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT empty octet", CL, L("EPRT |1|192..2.10|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT ends after the address", CL, L("EPRT |1|192.0.2.10\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT three octets", CL, L("EPRT |1|192.0.2|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT five octets", CL, L("EPRT |1|192.0.2.10.1|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT trailing text", CL, L("EPRT |1|192.0.2.10|1025| x\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT no argument", CL, L("EPRT\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT IPv4 third party", CL, L("EPRT |1|10.0.0.1|1025|\r\n"),
	  REFUSE(THIRD_PARTY), KIND(EPRT) },
	{ "EPRT IPv4 third party, loose", CL, .pol = P_LOOSE,
	  L("EPRT |1|10.0.0.1|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "10.0.0.1" },
	{ "EPRT IPv6 third party", CL, V6, L("EPRT |2|2001:db8::11|1025|\r\n"),
	  REFUSE(THIRD_PARTY), KIND(EPRT) },
	{ "EPRT low port", CL, .min_port = 1024,
	  L("EPRT |1|192.0.2.10|20|\r\n"), REFUSE(LOW_PORT), KIND(EPRT) },
	{ "EPRT with high byte", CL, L("EPRT |1|192.0.2.10|1025|\x80\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "EPRT with NUL", CL, L("EPRT |1|192.0.2.10\0|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },

	/* IPv6 text forms (EPRT, loose, IPv6 connection) */
	{ "IPv6 ::1", CL, V6, .pol = P_LOOSE, L("EPRT |2|::1|1025|\r\n"),
	  EXPECT, KIND(EPRT), .addr = "::1", .match = "|2|::1|1025|" },
	{ "IPv6 ::", CL, V6, .pol = P_LOOSE, L("EPRT |2|::|1025|\r\n"),
	  EXPECT, KIND(EPRT), .addr = "::" },
	{ "IPv6 2001:db8::", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|2001:db8::|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "2001:db8::" },
	{ "IPv6 embedded IPv4 ::ffff:192.0.2.1", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|::ffff:192.0.2.1|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "::ffff:192.0.2.1", .match = "|2|::ffff:192.0.2.1|1025|" },
	{ "IPv6 ::1.2.3.4", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|::1.2.3.4|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "::1.2.3.4" },
	{ "IPv6 eight groups", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4:5:6:7:8|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "1:2:3:4:5:6:7:8" },
	{ "IPv6 six groups and a dotted quad", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4:5:6:1.2.3.4|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "1:2:3:4:5:6:102:304" },
	{ "IPv6 upper-case hex", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|2001:DB8::ABCD|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "2001:db8::abcd" },
	{ "IPv6 seven groups and a trailing ::", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4:5:6:7::|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "1:2:3:4:5:6:7:0" },
	{ "IPv6 leading :: and seven groups", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|::2:3:4:5:6:7:8|1025|\r\n"), EXPECT, KIND(EPRT),
	  .addr = "0:2:3:4:5:6:7:8" },
	{ "IPv6 ::: invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|:::|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 two :: invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1::2::3|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 nine groups invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4:5:6:7:8:9|1025|\r\n"), REFUSE(SYNTAX),
	  KIND(EPRT) },
	{ "IPv6 seven groups without :: invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4:5:6:7|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 eight groups and :: invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1:2:3:4::5:6:7:8|1025|\r\n"), REFUSE(SYNTAX),
	  KIND(EPRT) },
	{ "IPv6 eight groups then trailing :: invalid", CL, V6,
	  .pol = P_LOOSE, L("EPRT |2|1:2:3:4:5:6:7:8::|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 five-hex-digit group invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|2001:db8::12345|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 bad character invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|2001:db8::g|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 zone id invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|fe80::1%eth0|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 trailing single colon invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1::2:|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 leading single colon invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|:1::2|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 dotted quad not last invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|::1.2.3.4:5|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 seven groups and a dotted quad invalid", CL, V6,
	  .pol = P_LOOSE, L("EPRT |2|1:2:3:4:5:6:7:1.2.3.4|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 embedded quad with leading zero invalid", CL, V6,
	  .pol = P_LOOSE, L("EPRT |2|::ffff:192.0.2.01|1025|\r\n"),
	  REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 plain dotted quad invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|1.2.3.4|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 empty address invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2||1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },
	{ "IPv6 single colon invalid", CL, V6, .pol = P_LOOSE,
	  L("EPRT |2|:|1025|\r\n"), REFUSE(SYNTAX), KIND(EPRT) },

	/* PASV, EPSV, AUTH and other commands */
	{ "PASV sets PASV", CL, L("PASV\r\n"), .v = NF_FTP_V_NONE, KIND(PASV),
	  .flags_after = FL(F_PASV) },
	{ "pasv lower case, LF", CL, L("pasv\n"), KIND(PASV),
	  .flags_after = FL(F_PASV) },
	{ "PASVX is not PASV", CL, L("PASVX\r\n"), KIND(NONE),
	  .flags_after = FL(0) },
	{ "EPSV sets EPSV", CL, L("EPSV\r\n"), KIND(EPSV),
	  .flags_after = FL(F_EPSV) },
	{ "EPSV 2", CL, L("EPSV 2\r\n"), KIND(EPSV),
	  .flags_after = FL(F_EPSV) },
	{ "epsv ALL is still EPSV", CL, L("epsv ALL\r\n"), KIND(EPSV),
	  .flags_after = FL(F_EPSV) },
	{ "EPSVALL is not EPSV", CL, L("EPSVALL\r\n"), KIND(NONE),
	  .flags_after = FL(0) },
	{ "AUTH TLS", CL, L("AUTH TLS\r\n"), KIND(AUTH),
	  .flags_after = FL(F_AUTH) },
	{ "auth tls lower case", CL, L("auth tls\r\n"), KIND(AUTH),
	  .flags_after = FL(F_AUTH) },
	{ "AUTH SSL", CL, L("AUTH SSL\r\n"), KIND(AUTH),
	  .flags_after = FL(F_AUTH) },
	{ "AUTH TLS-C", CL, L("AUTH TLS-C\r\n"), KIND(AUTH) },
	{ "Auth Tls-P  (trailing spaces)", CL, L("Auth Tls-P  \r\n"),
	  KIND(AUTH) },
	{ "AUTH GSSAPI is not TLS", CL, L("AUTH GSSAPI\r\n"), KIND(NONE),
	  .flags_after = FL(0) },
	{ "AUTH TLSX", CL, L("AUTH TLSX\r\n"), KIND(NONE) },
	{ "AUTH TL", CL, L("AUTH TL\r\n"), KIND(NONE) },
	{ "AUTH without argument", CL, L("AUTH\r\n"), KIND(NONE) },
	{ "AUTH TLS with extra text", CL, L("AUTH TLS now\r\n"), KIND(NONE) },
	{ "USER is of no interest", CL, L("USER anonymous\r\n"), KIND(NONE) },
	{ "empty line", CL, L("\r\n"), KIND(NONE) },
	{ "uninteresting line may hold NUL and high bytes", CL,
	  L("SITE \0\xff\x80\r\n"), KIND(NONE) },
	{ "client line looking like 227", CL,
	  L("227 Entering Passive Mode (192,0,2,10,4,1)\r\n"), KIND(NONE) },

	/* 227 */
	{ "227 paired with PASV", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1).\r\n"), EXPECT,
	  KIND(227), .addr = S4, .port = 1025, .match = "198,51,100,20,4,1",
	  .flags_after = FL(0) },
	{ "227 after PASV through the assembler", SV, .pre = "C:PASV\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\n"), EXPECT,
	  KIND(227), .match = "198,51,100,20,4,1", .flags_after = FL(0) },
	{ "227 unpaired, pairing on", SV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"),
	  REFUSE(UNPAIRED), KIND(227) },
	{ "227 unpaired, pairing off", SV, .pol = P_NOPAIR,
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"), EXPECT,
	  KIND(227), .port = 1025 },
	{ "227 with EPSV pending is unpaired", SV, .flags = F_EPSV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"),
	  REFUSE(UNPAIRED), KIND(227), .flags_after = FL(F_EPSV) },
	{ "227 without parentheses (RFC 1123)", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode 198,51,100,20,4,1\r\n"), EXPECT,
	  KIND(227), .addr = S4, .port = 1025,
	  .match = "198,51,100,20,4,1" },
	{ "227 without parentheses, text after", SV, .flags = F_PASV,
	  L("227 =198,51,100,20,4,1. ok\r\n"), EXPECT, KIND(227),
	  .match = "198,51,100,20,4,1" },
	{ "227 without parentheses, seventh number", SV, .flags = F_PASV,
	  L("227 Passive 198,51,100,20,4,1,7\r\n"), REFUSE(SYNTAX),
	  KIND(227), .flags_after = FL(0) },
	{ "227 parenthesis not closed", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1\r\n"),
	  REFUSE(SYNTAX), KIND(227), .flags_after = FL(0) },
	{ "227 text before the numbers in parentheses", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (at 198,51,100,20,4,1)\r\n"),
	  REFUSE(SYNTAX), KIND(227) },
	{ "227 seven numbers in parentheses", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1,1)\r\n"),
	  REFUSE(SYNTAX), KIND(227) },
	{ "227 space inside the parentheses", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode ( 198,51,100,20,4,1)\r\n"),
	  REFUSE(SYNTAX), KIND(227) },
	{ "227 third party refused", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (10,0,0,1,4,1)\r\n"),
	  REFUSE(THIRD_PARTY), KIND(227), .flags_after = FL(0) },
	{ "227 third party, loose", SV, .flags = F_PASV, .pol = P_LOOSE,
	  L("227 Entering Passive Mode (10,0,0,1,4,1)\r\n"), EXPECT,
	  KIND(227), .addr = "10.0.0.1" },
	{ "227 0.0.0.0 is third party", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (0,0,0,0,4,1)\r\n"),
	  REFUSE(THIRD_PARTY), KIND(227) },
	{ "227 octet 300", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,300,20,4,1)\r\n"),
	  REFUSE(NUMBER), KIND(227) },
	{ "227 huge digit run", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,4,"
	    "99999999999999999999)\r\n"), REFUSE(NUMBER), KIND(227) },
	{ "227 port 0", SV, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,0,0)\r\n"),
	  REFUSE(NUMBER), KIND(227) },
	{ "227 low port", SV, .flags = F_PASV, .min_port = 1024,
	  L("227 Entering Passive Mode (198,51,100,20,0,21)\r\n"),
	  REFUSE(LOW_PORT), KIND(227), .port = 21 },
	{ "227 on an IPv6 connection", SV, V6, .flags = F_PASV,
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"),
	  REFUSE(FAMILY), KIND(227) },
	{ "227 high byte in the text", SV, .flags = F_PASV,
	  L("227 Entr\xe9" "e en mode passif (198,51,100,20,4,1)\r\n"),
	  REFUSE(SYNTAX), KIND(227) },
	{ "227 NUL in the text", SV, .flags = F_PASV,
	  L("227 Entering\0 Passive Mode (198,51,100,20,4,1)\r\n"),
	  REFUSE(SYNTAX), KIND(227) },
	{ "227 without any number", SV, .flags = F_PASV,
	  L("227 Passive mode\r\n"), REFUSE(SYNTAX), KIND(227),
	  .flags_after = FL(0) },
	{ "bare 227", SV, .flags = F_PASV, L("227\r\n"), REFUSE(SYNTAX),
	  KIND(227) },
	{ "2270 is not a reply", SV, .flags = F_PASV,
	  L("2270 (198,51,100,20,4,1)\r\n"), KIND(NONE),
	  .flags_after = FL(F_PASV) },
	{ "22 is not a reply", SV, .flags = F_PASV, L("22 (1)\r\n"),
	  KIND(NONE), .flags_after = FL(F_PASV) },
	{ "227- starts a multi-line reply", SV, .flags = F_PASV,
	  L("227-Entering Passive Mode (198,51,100,20,4,1)\r\n"), KIND(NONE),
	  .flags_after = FL(F_PASV), .mlcode_after = ML(227) },
	{ "227 ends its own multi-line reply", SV, .flags = F_PASV,
	  .pre = "S:227-Passive\nS: more text\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"), EXPECT,
	  KIND(227), .match = "198,51,100,20,4,1", .mlcode_after = ML(0),
	  .flags_after = FL(0) },
	{ "fake 227 inside a 230- block ignored", SV, .flags = F_PASV,
	  .pre = "S:230-Welcome\n",
	  L("227 Entering Passive Mode (10,0,0,1,4,1)\r\n"), KIND(NONE),
	  .mlcode_after = ML(230), .flags_after = FL(F_PASV) },
	{ "230- block: other code does not end it", SV,
	  .pre = "S:230-Welcome\n", L("231 x\r\n"), KIND(NONE),
	  .mlcode_after = ML(230) },
	{ "230- block: 230- does not end it", SV, .pre = "S:230-Welcome\n",
	  L("230-more\r\n"), KIND(NONE), .mlcode_after = ML(230) },
	{ "230- block ends at 230 space", SV, .pre = "S:230-Welcome\n",
	  L("230 Logged in\r\n"), KIND(NONE), .mlcode_after = ML(0) },
	{ "230- block ends at bare 230", SV, .pre = "S:230-Welcome\n",
	  L("230\r\n"), KIND(NONE), .mlcode_after = ML(0) },
	{ "227 after a finished 230- block", SV, .flags = F_PASV,
	  .pre = "S:230-Welcome\nS:227 fake (1,2,3,4,5,6)\nS:230 ok\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"), EXPECT,
	  KIND(227), .mlcode_after = ML(0) },
	{ "client PORT parsed during a server multi-line reply", CL,
	  .mlcode = 230, L("PORT 192,0,2,10,4,1\r\n"), EXPECT, KIND(PORT),
	  .mlcode_after = ML(230) },
	{ "600- is not a multi-line reply", SV, L("600-x\r\n"), KIND(NONE),
	  .mlcode_after = ML(0) },

	/* 229 */
	{ "229 paired with EPSV", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (|||1025|)\r\n"), EXPECT,
	  KIND(229), .addr = S4, .port = 1025, .match = "1025",
	  .flags_after = FL(0) },
	{ "229 on IPv6 takes the sender's address", SV, V6, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (|||65535|)\r\n"), EXPECT,
	  KIND(229), .addr = S6, .port = 65535, .match = "65535" },
	{ "229 unpaired", SV,
	  L("229 Entering Extended Passive Mode (|||1025|)\r\n"),
	  REFUSE(UNPAIRED), KIND(229) },
	{ "229 unpaired, pairing off", SV, .pol = P_NOPAIR,
	  L("229 Entering Extended Passive Mode (|||1025|)\r\n"), EXPECT,
	  KIND(229) },
	{ "229 delimiter !, text after", SV, .flags = F_EPSV,
	  L("229 Extended (!!!1025!) ok\r\n"), EXPECT, KIND(229),
	  .match = "1025" },
	{ "229 mismatched delimiters", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (|!|1025|)\r\n"),
	  REFUSE(SYNTAX), KIND(229), .flags_after = FL(0) },
	{ "229 third delimiter differs", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (||!1025|)\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 last delimiter differs", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (|||1025!)\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 missing closing parenthesis", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (|||1025|\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 digit delimiter", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode (77710257)\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 without parentheses", SV, .flags = F_EPSV,
	  L("229 Entering Extended Passive Mode |||1025|\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 port 0", SV, .flags = F_EPSV, L("229 x (|||0|)\r\n"),
	  REFUSE(NUMBER), KIND(229) },
	{ "229 port 65536", SV, .flags = F_EPSV, L("229 x (|||65536|)\r\n"),
	  REFUSE(NUMBER), KIND(229) },
	{ "229 huge port", SV, .flags = F_EPSV,
	  L("229 x (|||99999999999999999999|)\r\n"), REFUSE(NUMBER),
	  KIND(229) },
	{ "229 empty port", SV, .flags = F_EPSV, L("229 x (||||)\r\n"),
	  REFUSE(SYNTAX), KIND(229) },
	{ "229 low port", SV, .flags = F_EPSV, .min_port = 1024,
	  L("229 x (|||1023|)\r\n"), REFUSE(LOW_PORT), KIND(229),
	  .port = 1023 },
	{ "229 ignores loose (always the sender)", SV, .flags = F_EPSV,
	  .pol = P_LOOSE, L("229 x (|||2000|)\r\n"), EXPECT, KIND(229),
	  .addr = S4 },
	{ "229 with high byte", SV, .flags = F_EPSV,
	  L("229 \xff (|||2000|)\r\n"), REFUSE(SYNTAX), KIND(229) },
	{ "229- starts a multi-line reply", SV, .flags = F_EPSV,
	  L("229-x (|||2000|)\r\n"), KIND(NONE), .mlcode_after = ML(229),
	  .flags_after = FL(F_EPSV) },

	/* 234, AUTH and other replies */
	{ "234 after AUTH enters TLS", SV, .flags = F_AUTH,
	  L("234 AUTH TLS OK.\r\n"), KIND(234), .flags_after = FL(F_TLS) },
	{ "AUTH then 234 through the assembler", SV, .pre = "C:AUTH TLS\n",
	  L("234 Proceed\r\n"), KIND(234), .flags_after = FL(F_TLS) },
	{ "bare 234 after AUTH", SV, .flags = F_AUTH, L("234\n"), KIND(234),
	  .flags_after = FL(F_TLS) },
	{ "234 without AUTH: no TLS", SV, L("234 x\r\n"), KIND(234),
	  .flags_after = FL(0) },
	{ "2345 is not 234", SV, .flags = F_AUTH, L("2345\r\n"), KIND(NONE),
	  .flags_after = FL(F_AUTH) },
	{ "234- then 234 enters TLS", SV, .flags = F_AUTH,
	  .pre = "S:234-hello\n", L("234 go\r\n"), KIND(234),
	  .flags_after = FL(F_TLS) },
	{ "534 refuses AUTH", SV, .flags = F_AUTH,
	  L("534 Policy denied\r\n"), KIND(NONE), .flags_after = FL(0) },
	{ "200 clears a pending AUTH", SV, .flags = F_AUTH,
	  L("200 ok\r\n"), KIND(NONE), .flags_after = FL(0) },
	{ "1xx keeps AUTH and PASV pending", SV,
	  .flags = F_AUTH | F_PASV, L("150 wait\r\n"), KIND(NONE),
	  .flags_after = FL(F_AUTH | F_PASV) },
	{ "500 after PASV clears PASV and EPSV", SV,
	  .flags = F_PASV | F_EPSV, L("500 unknown\r\n"), KIND(NONE),
	  .flags_after = FL(0) },
	{ "200 keeps PASV pending (pipelining)", SV,
	  .flags = F_PASV, L("200 Type set to I\r\n"), KIND(NONE),
	  .flags_after = FL(F_PASV) },
	{ "pipelined TYPE and PASV: 200 then 227 paired", SV,
	  .pre = "C:TYPE I\nC:PASV\nS:200 Type set\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"), EXPECT,
	  KIND(227), .flags_after = FL(0) },
	{ "EPSV refused, PASV fallback paired", SV,
	  .pre = "C:EPSV\nS:500 no\nC:PASV\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,1)\r\n"), EXPECT,
	  KIND(227), .flags_after = FL(0) },
	{ "second 227 after one PASV is unpaired", SV,
	  .pre = "C:PASV\nS:227 ok (198,51,100,20,4,1)\n",
	  L("227 Entering Passive Mode (198,51,100,20,4,2)\r\n"),
	  REFUSE(UNPAIRED), KIND(227) },
	{ "server PORT-looking line", SV, .flags = F_PASV,
	  L("PORT 198,51,100,20,4,1\r\n"), KIND(NONE),
	  .flags_after = FL(F_PASV) },
};

static bool addr_eq(const char *txt, const struct nf_ftp_match *m)
{
	union nf_ftp_addr a;

	parse_addr(txt, &a);
	if (strchr(txt, ':'))
		return !memcmp(a.ip6, m->addr.ip6, sizeof(a.ip6));
	return a.ip == m->addr.ip;
}

static void check_match(const struct pcase *t, struct conn *c)
{
	if (c->v != t->v)
		fail("verdict %d, want %d", c->v, t->v);
	if (c->m.kind != t->kind)
		fail("kind %d, want %d", c->m.kind, t->kind);
	if (c->m.reason != t->reason)
		fail("reason %d, want %d", c->m.reason, t->reason);
	if (t->addr && !addr_eq(t->addr, &c->m))
		fail("address differs from %s", t->addr);
	if (t->port && c->m.port != t->port)
		fail("port %u, want %d", c->m.port, t->port);
	if (t->match && strcmp(c->match, t->match))
		fail("match \"%s\", want \"%s\"", c->match, t->match);
	if (c->v == NF_FTP_V_EXPECT) {
		if (c->m.family != c->family)
			fail("family %u", c->m.family);
		if (!c->match[0])
			fail("empty match");
	}
}

static void run_pcase(const struct pcase *t)
{
	struct conn c;
	u8 fam = t->fam ? t->fam : NF_FTP_AF_INET;
	int lines;

	conn_init(&c, fam, t->pol & P_LOOSE, !(t->pol & P_NOPAIR),
		  t->min_port);
	c.st.flags = t->flags;
	c.st.mlcode = t->mlcode;
	conn_script(&c, t->pre);
	lines = c.nlines;
	conn_seg(&c, t->dir, t->line, t->linelen);
	if (c.nlines != lines + 1)
		fail("%d lines, want 1", c.nlines - lines);
	else
		check_match(t, &c);
	if ((t->flags_after & 0x10000) &&
	    (c.st.flags & 0xff) != (t->flags_after & 0xffff))
		fail("flags %#x, want %#x", c.st.flags, t->flags_after & 0xffff);
	if ((t->mlcode_after & 0x10000) &&
	    c.st.mlcode != (t->mlcode_after & 0xffff))
		fail("mlcode %u, want %d", c.st.mlcode,
		     t->mlcode_after & 0xffff);
	report("%s", t->desc);
}

/* ------------------------------------------------------------------ */
/* Assembler: splits and prefixes give the same result as whole lines. */

struct sline {
	const char *desc;
	u8 fam;
	u16 flags;
	enum nf_ftp_dir dir;
	const char *raw;
	const char *match;
};

static const struct sline slines[] = {
	{ "PORT", NF_FTP_AF_INET, 0, NF_FTP_CLIENT,
	  "PORT 192,0,2,10,4,1\r\n", "192,0,2,10,4,1" },
	{ "EPRT v4", NF_FTP_AF_INET, 0, NF_FTP_CLIENT,
	  "EPRT |1|192.0.2.10|1025|\r\n", "|1|192.0.2.10|1025|" },
	{ "EPRT v6", NF_FTP_AF_INET6, 0, NF_FTP_CLIENT,
	  "EPRT |2|2001:db8::10|1025|\n", "|2|2001:db8::10|1025|" },
	{ "227", NF_FTP_AF_INET, NF_FTP_F_PASV, NF_FTP_SERVER,
	  "227 Entering Passive Mode (198,51,100,20,4,1).\r\n",
	  "198,51,100,20,4,1" },
	{ "229", NF_FTP_AF_INET6, NF_FTP_F_EPSV, NF_FTP_SERVER,
	  "229 Entering Extended Passive Mode (|||1025|)\r\n", "1025" },
};

/* Feed @raw after a harmless first line, split at @cuts. */
static void run_split(const struct sline *s, const unsigned int *cuts,
		      unsigned int ncuts, struct conn *c)
{
	static const char first[] = "NOOP\r\n";
	static const char rfirst[] = "200 NOOP ok\r\n";
	char buf[256];
	const char *pre = s->dir == NF_FTP_CLIENT ? first : rfirst;
	unsigned int plen = strlen(pre), len, k, from = 0, to;

	len = plen + strlen(s->raw);
	if (len > sizeof(buf))
		abort();
	memcpy(buf, pre, plen);
	memcpy(buf + plen, s->raw, len - plen);
	conn_init(c, s->fam, false, true, 1024);
	/* interleave a segment of the other direction */
	conn_seg(c, !s->dir, "", 0);
	for (k = 0; k <= ncuts; k++) {
		to = k < ncuts ? cuts[k] : len;
		if (to == from && k < ncuts)
			continue;
		c->st.flags |= s->flags;	/* pending PASV/EPSV */
		conn_seg(c, s->dir, buf + from, to - from);
		from = to;
	}
}

static bool same_result(const struct conn *a, const struct conn *b)
{
	return a->nlines == b->nlines && a->v == b->v &&
	       a->m.kind == b->m.kind && a->m.reason == b->m.reason &&
	       a->m.port == b->m.port && a->m.family == b->m.family &&
	       !memcmp(&a->m.addr, &b->m.addr, sizeof(a->m.addr)) &&
	       a->m.off == b->m.off && a->m.len == b->m.len &&
	       !strcmp(a->match, b->match) && a->match_abs == b->match_abs &&
	       a->line_abs == b->line_abs && !strcmp(a->text, b->text);
}

static void test_splits(void)
{
	static struct conn ref, c;
	const struct sline *s;
	unsigned int i, k, len, cuts[256];
	char dirs[8];

	for (i = 0; i < ARRAY_SIZE(slines); i++) {
		s = &slines[i];
		snprintf(dirs, sizeof(dirs), "%s",
			 s->dir == NF_FTP_CLIENT ? "client" : "server");
		run_split(s, NULL, 0, &ref);
		if (ref.nlines != 2 || ref.v != NF_FTP_V_EXPECT ||
		    strcmp(ref.match, s->match))
			fail("unsplit: %d lines, verdict %d, match \"%s\"",
			     ref.nlines, ref.v, ref.match);
		if (ref.line_abs < 0 || ref.m.off + ref.line_abs != ref.match_abs)
			fail("unsplit offsets");
		report("%s %s unsplit: EXPECT, match \"%s\"", dirs, s->desc,
		       s->match);

		len = strlen(s->raw) + (s->dir == NF_FTP_CLIENT ? 6 : 13);
		for (k = 1; k < len; k++) {
			run_split(s, &k, 1, &c);
			if (!same_result(&ref, &c)) {
				fail("split at %u: verdict %d match \"%s\" at %ld, line at %ld",
				     k, c.v, c.match, c.match_abs, c.line_abs);
				break;
			}
		}
		report("%s %s: every split into 2 segments", dirs, s->desc);

		for (k = 0; k < len - 1; k++)
			cuts[k] = k + 1;
		run_split(s, cuts, len - 1, &c);
		if (!same_result(&ref, &c))
			fail("1-byte segments: verdict %d match \"%s\" at %ld",
			     c.v, c.match, c.match_abs);
		report("%s %s: 1-byte segments", dirs, s->desc);

		/* three segments: every pair of cut points */
		for (k = 1; k + 1 < len && !why[0]; k++) {
			unsigned int j, cc[2];

			for (j = k + 1; j < len; j++) {
				cc[0] = k;
				cc[1] = j;
				run_split(s, cc, 2, &c);
				if (!same_result(&ref, &c)) {
					fail("split at %u,%u", k, j);
					break;
				}
			}
		}
		report("%s %s: every split into 3 segments", dirs, s->desc);
	}
}

/* Every proper prefix of a valid line, alone, gives no line. */
static void test_prefixes(void)
{
	static struct conn c;
	unsigned int i, k, len;
	unsigned int pos;
	struct nf_ftp_line line;

	for (i = 0; i < ARRAY_SIZE(slines); i++) {
		len = strlen(slines[i].raw);
		for (k = 0; k < len; k++) {
			conn_init(&c, slines[i].fam, false, true, 0);
			pos = 0;
			if (nf_ftp_next_line(&c.st, slines[i].dir, NULL,
					     slines[i].raw, k, &pos, &line,
					     &c.overflows) != 0) {
				fail("prefix %u gave a line", k);
				break;
			}
			if (pos != 0) {
				fail("prefix %u: pos %u, want 0", k, pos);
				break;
			}
			conn_seg(&c, slines[i].dir, slines[i].raw, k);
			if (c.nlines || c.st.held[slines[i].dir] != k) {
				fail("prefix %u: %d lines, held %u", k,
				     c.nlines, c.st.held[slines[i].dir]);
				break;
			}
		}
		report("%s: every proper prefix is partial", slines[i].desc);
	}
}

/* ------------------------------------------------------------------ */
/* Assembler details.                                                   */

static void test_multi(void)
{
	static const char seg[] =
		"PASV\r\nPORT 192,0,2,10,4,1\r\nEPSV\nNOOP\r\nLIST";
	struct nf_ftp_state st;
	struct nf_ftp_line line;
	unsigned int pos = 0, ov = 0;
	const char *want[] = { "PASV", "PORT 192,0,2,10,4,1", "EPSV",
			       "NOOP" };
	const int starts[] = { 0, 6, 27, 32 };
	char hold[NF_FTP_LINE_MAX];
	unsigned int n = 0;

	memset(&st, 0, sizeof(st));
	while (nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, seg,
				sizeof(seg) - 1, &pos, &line, &ov) == 1) {
		if (n >= ARRAY_SIZE(want) || line.len != strlen(want[n]) ||
		    memcmp(line.text, want[n], line.len) ||
		    line.start != starts[n] || line.text != seg + starts[n])
			fail("line %u: \"%.*s\" start %d", n, (int)line.len,
			     line.text, line.start);
		n++;
	}
	if (n != 4 || pos != sizeof(seg) - 5)
		fail("%u lines, pos %u", n, pos);
	report("several lines in one segment, all returned in place");

	if (nf_ftp_hold(&st, NF_FTP_CLIENT, hold, seg + pos,
			sizeof(seg) - 1 - pos) || st.held[0] != 4)
		fail("held %u", st.held[0]);
	pos = 0;
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, hold, "\r\nX\n", 4, &pos,
			     &line, &ov) != 1 || line.len != 4 ||
	    memcmp(line.text, "LIST", 4) || line.start != -4 ||
	    line.text != hold || pos != 2 || st.held[0])
		fail("held line: len %u start %d pos %u", line.len,
		     line.start, pos);
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, hold, "\r\nX\n", 4, &pos,
			     &line, &ov) != 1 || line.len != 1 ||
	    line.start != 2 || pos != 4)
		fail("line after held: start %d", line.start);
	report("held line completed with start = -held, then in place");

	memset(&st, 0, sizeof(st));
	pos = 0;
	nf_ftp_hold(&st, NF_FTP_CLIENT, hold, "PASV\r", 5);
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, hold, "\n", 1, &pos, &line,
			     &ov) != 1 || line.len != 4 || line.start != -5 ||
	    memcmp(line.text, "PASV", 4))
		fail("CR|LF split: len %u start %d", line.len, line.start);
	report("CR at the end of one segment, LF in the next");

	memset(&st, 0, sizeof(st));
	pos = 0;
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, "A\rB\n", 4, &pos,
			     &line, &ov) != 1 || line.len != 3 ||
	    memcmp(line.text, "A\rB", 3))
		fail("lone CR: len %u", line.len);
	report("a lone CR inside a line is kept");

	memset(&st, 0, sizeof(st));
	pos = 0;
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, "\n\r\n", 3, &pos,
			     &line, &ov) != 1 || line.len != 0 ||
	    nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, "\n\r\n", 3, &pos,
			     &line, &ov) != 1 || line.len != 0 ||
	    line.start != 1 ||
	    nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, "\n\r\n", 3, &pos,
			     &line, &ov) != 0 || pos != 3)
		fail("empty lines");
	report("empty lines are returned");
}

static void make_line(char *buf, unsigned int textlen, const char *term)
{
	memset(buf, 'x', textlen);
	memcpy(buf, "NOOP ", 5);
	strcpy(buf + textlen, term);
}

static void test_overflow(void)
{
	static char buf[4096], seg[4096];
	static struct conn c;
	unsigned int n, k;

	/* raw length exactly NF_FTP_LINE_MAX is accepted, one more is not */
	make_line(buf, NF_FTP_LINE_MAX - 2, "\r\n");
	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	conn_seg(&c, NF_FTP_CLIENT, buf, strlen(buf));
	if (c.nlines != 1 || c.text_len != NF_FTP_LINE_MAX - 2 || c.overflows)
		fail("%d lines, len %u", c.nlines, c.text_len);
	make_line(buf, NF_FTP_LINE_MAX - 1, "\n");
	conn_seg(&c, NF_FTP_CLIENT, buf, strlen(buf));
	if (c.nlines != 2 || c.text_len != NF_FTP_LINE_MAX - 1 || c.overflows)
		fail("LF: %d lines, len %u", c.nlines, c.text_len);
	report("line of exactly NF_FTP_LINE_MAX bytes (CRLF and LF) accepted");

	make_line(buf, NF_FTP_LINE_MAX - 1, "\r\n");
	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	n = strlen(buf);
	strcpy(buf + n, "PORT 192,0,2,10,4,1\r\n");
	conn_seg(&c, NF_FTP_CLIENT, buf, strlen(buf));
	if (c.nlines != 1 || c.overflows != 1 || c.v != NF_FTP_V_EXPECT ||
	    c.line_abs != n)
		fail("%d lines, %u overflows", c.nlines, c.overflows);
	report("NF_FTP_LINE_MAX + 1 bytes: dropped, counted, next line parsed");

	/* a 600-byte line split everywhere: counted once, next line ok */
	make_line(buf, 600, "\r\n");
	n = strlen(buf);
	strcpy(buf + n, "PORT 192,0,2,10,4,1\r\n");
	for (k = 1; k < strlen(buf); k++) {
		conn_init(&c, NF_FTP_AF_INET, false, true, 0);
		conn_seg(&c, NF_FTP_CLIENT, buf, k);
		if (k >= NF_FTP_LINE_MAX && k < n &&
		    !(c.st.flags & NF_FTP_F_DISCARD(NF_FTP_CLIENT)))
			fail("split %u: not discarding", k);
		conn_seg(&c, NF_FTP_CLIENT, buf + k, strlen(buf) - k);
		if (c.nlines != 1 || c.v != NF_FTP_V_EXPECT ||
		    c.overflows + c.hold_overflows != 1 ||
		    c.match_abs != n + 5 || c.st.flags) {
			fail("split %u: %d lines, %u+%u overflows, flags %#x",
			     k, c.nlines, c.overflows, c.hold_overflows,
			     c.st.flags);
			break;
		}
	}
	report("over-long line split anywhere: one overflow, DISCARD set");

	/* 1-byte segments of an over-long line */
	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	for (k = 0; k < strlen(buf); k++) {
		conn_seg(&c, NF_FTP_CLIENT, buf + k, 1);
		if (c.st.held[0] > NF_FTP_LINE_MAX - 1)
			fail("held %u", c.st.held[0]);
	}
	if (c.nlines != 1 || c.v != NF_FTP_V_EXPECT ||
	    c.overflows + c.hold_overflows != 1)
		fail("%d lines, %u+%u overflows", c.nlines, c.overflows,
		     c.hold_overflows);
	report("over-long line in 1-byte segments: held stays < LINE_MAX");

	/* hold: the boundary */
	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	memset(seg, 'y', sizeof(seg));
	if (nf_ftp_hold(&c.st, 0, c.hold[0], seg, NF_FTP_LINE_MAX - 1) ||
	    c.st.held[0] != NF_FTP_LINE_MAX - 1)
		fail("hold of LINE_MAX - 1 refused");
	if (nf_ftp_hold(&c.st, 0, c.hold[0], seg, 1) != 1 ||
	    c.st.held[0] != 0 || !(c.st.flags & NF_FTP_F_DISCARD(0)))
		fail("hold past LINE_MAX - 1 accepted");
	if (nf_ftp_hold(&c.st, 0, c.hold[0], seg, 10) != 0 || c.st.held[0])
		fail("hold while discarding kept bytes");
	report("nf_ftp_hold keeps at most LINE_MAX - 1 bytes, then discards");

	/* huge segment of one line */
	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	memset(seg, 'z', sizeof(seg));
	seg[sizeof(seg) - 1] = '\n';
	conn_seg(&c, NF_FTP_SERVER, seg, sizeof(seg));
	SEG(&c, NF_FTP_SERVER, "220 hi\r\n");
	if (c.nlines != 1 || c.overflows != 1 || strcmp(c.text, "220 hi"))
		fail("%d lines, %u overflows", c.nlines, c.overflows);
	report("4096-byte line in one segment dropped, next line returned");
}

static void test_resync(void)
{
	static struct conn c;

	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	SEG(&c, NF_FTP_CLIENT, "PORT 10,0,");
	nf_ftp_resync(&c.st, NF_FTP_CLIENT);
	if (c.st.held[0] || !(c.st.flags & NF_FTP_F_RESYNC(0)))
		fail("resync: held %u flags %#x", c.st.held[0], c.st.flags);
	SEG(&c, NF_FTP_CLIENT, "0,1,4,1");
	SEG(&c, NF_FTP_CLIENT, "\r\nPORT 192,0,2,10,4,1\r\n");
	if (c.nlines != 1 || c.v != NF_FTP_V_EXPECT || c.st.flags ||
	    c.match_abs != 10 + 7 + 2 + 5)
		fail("%d lines, flags %#x", c.nlines, c.st.flags);
	report("resync drops the held line and skips to the next newline");

	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	nf_ftp_resync(&c.st, NF_FTP_SERVER);
	SEG(&c, NF_FTP_SERVER, "(198,51,100,20,4,1)\r\n227 x\r\n");
	if (c.nlines != 1 || strcmp(c.text, "227 x"))
		fail("%d lines", c.nlines);
	report("resync mid-line in a segment: rest of the line skipped");

	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	conn_script(&c, "S:230-hello\n");
	nf_ftp_resync(&c.st, NF_FTP_SERVER);
	if (c.st.mlcode)
		fail("mlcode %u", c.st.mlcode);
	nf_ftp_resync(&c.st, NF_FTP_CLIENT);
	SEG(&c, NF_FTP_CLIENT, "\n");
	SEG(&c, NF_FTP_SERVER, "230 done\n");
	if (c.st.flags || c.nlines != 1)
		fail("flags %#x", c.st.flags);
	report("server resync forgets the multi-line reply");
}

static void test_tls(void)
{
	static struct conn c;
	struct nf_ftp_state st;

	memset(&st, 0, sizeof(st));
	if (nf_ftp_tls_segment(&st, "\x16\x03\x01", 3) ||
	    nf_ftp_tls_segment(&st, "", 0))
		fail("skipped outside TLS");
	report("tls_segment outside TLS is always false");

	st.flags = NF_FTP_F_TLS;
	if (!nf_ftp_tls_segment(&st, "\x14", 1) ||
	    !nf_ftp_tls_segment(&st, "\x15", 1) ||
	    !nf_ftp_tls_segment(&st, "\x16\x03\x01", 3) ||
	    !nf_ftp_tls_segment(&st, "\x17\x03\x03", 3) ||
	    !nf_ftp_tls_segment(&st, "\x18", 1) ||
	    !nf_ftp_tls_segment(&st, "", 0) ||
	    !nf_ftp_tls_segment(&st, "\x80zz", 3) ||
	    !nf_ftp_tls_segment(&st, " 220", 4) ||
	    !nf_ftp_tls_segment(&st, "\r\n", 2) ||
	    st.flags != NF_FTP_F_TLS)
		fail("TLS records not skipped");
	report("TLS records, empty and non-alphanumeric segments skipped");

	st.flags = NF_FTP_F_TLS | NF_FTP_F_PASV | NF_FTP_F_DISCARD(1) |
		   NF_FTP_F_RESYNC(0) | 0x0300;
	st.held[0] = 3;
	st.held[1] = 7;
	st.mlcode = 230;
	if (nf_ftp_tls_segment(&st, "200 ok\r\n", 8) ||
	    st.flags != 0x0300 || st.held[0] || st.held[1] || st.mlcode)
		fail("leaving TLS: flags %#x", st.flags);
	report("plain text after CCC leaves TLS and restarts the streams");

	st.flags = NF_FTP_F_TLS;
	if (nf_ftp_tls_segment(&st, "pasv\r\n", 6) || st.flags)
		fail("lower-case letter");
	report("a lower-case letter also leaves TLS");

	conn_init(&c, NF_FTP_AF_INET, false, true, 0);
	conn_script(&c, "C:AUTH TLS\nS:234 go\n");
	if (!(c.st.flags & NF_FTP_F_TLS))
		fail("no TLS");
	SEG(&c, NF_FTP_CLIENT, "\x16\x03\x01PORT 10,0,0,1,4,1\r\n");
	SEG(&c, NF_FTP_SERVER, "\x17\x03\x03" "227 x (10,0,0,1,4,1)\r\n");
	if (c.nlines != 2 || c.ninteresting)
		fail("ciphertext parsed: %d lines", c.nlines);
	SEG(&c, NF_FTP_CLIENT, "PASV\r\n");
	SEG(&c, NF_FTP_SERVER,
	    "227 Entering Passive Mode (198,51,100,20,4,1)\r\n");
	if (c.v != NF_FTP_V_EXPECT || c.st.flags)
		fail("after CCC: verdict %d flags %#x", c.v, c.st.flags);
	report("AUTH TLS, 234, ciphertext skipped, plain FTP after CCC");
}

static void test_parse_direct(void)
{
	struct nf_ftp_match m;
	static char big[70000];

	/* pure: no state, 229 gets no address */
	if (nf_ftp_parse_line("229 x (|||1025|)", 16, NF_FTP_SERVER,
			      NF_FTP_AF_INET, &m) || m.kind != NF_FTP_K_229 ||
	    m.family || m.addr.ip || m.port != 1025 || m.off != 10 ||
	    m.len != 4)
		fail("229: kind %d family %u port %u off %u", m.kind,
		     m.family, m.port, m.off);
	report("parse_line 229: family 0, no address, off/len of the port");

	if (nf_ftp_parse_line("PORT 192,0,2,10,4,1", 19, 7, NF_FTP_AF_INET,
			      &m) || m.kind)
		fail("bad dir");
	report("parse_line with an invalid direction returns nothing");

	if (nf_ftp_parse_line("227-x (1,2,3,4,5,6)", 19, NF_FTP_SERVER,
			      NF_FTP_AF_INET, &m) || m.kind)
		fail("227- parsed as 227");
	report("parse_line: \"227-\" is not a 227 final line");

	memset(big, ' ', sizeof(big));
	memcpy(big, "EPRT |1|192.0.2.10|1025|", 24);
	if (nf_ftp_parse_line(big, sizeof(big), NF_FTP_CLIENT,
			      NF_FTP_AF_INET, &m) != NF_FTP_R_SYNTAX ||
	    m.kind != NF_FTP_K_EPRT)
		fail("huge EPRT line: reason %d", m.reason);
	memcpy(big, "227 (198,51,100,20,4,1)", 23);
	if (nf_ftp_parse_line(big, sizeof(big), NF_FTP_SERVER,
			      NF_FTP_AF_INET, &m) != NF_FTP_R_SYNTAX ||
	    m.kind != NF_FTP_K_227)
		fail("huge 227 line: reason %d", m.reason);
	memset(big, ' ', sizeof(big));
	memcpy(big, "PORT 192,0,2,10,4,1", 19);
	if (nf_ftp_parse_line(big, sizeof(big), NF_FTP_CLIENT,
			      NF_FTP_AF_INET, &m) != NF_FTP_R_SYNTAX ||
	    m.kind != NF_FTP_K_PORT)
		fail("huge line: reason %d", m.reason);
	if (nf_ftp_parse_line(big, 19, NF_FTP_CLIENT, NF_FTP_AF_INET, &m) ||
	    m.off != 5 || m.len != 14 || m.port != 1025)
		fail("PORT: off %u len %u", m.off, m.len);
	report("parse_line: line too long for u16 offsets refused");
}

/* Misuse by the caller must not crash or corrupt the state. */
static void test_robust(void)
{
	static const union nf_ftp_addr sender = { .ip = 0x01020304 };
	static const struct nf_ftp_policy pol = { .pairing = true };
	struct nf_ftp_state st;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	char hold[NF_FTP_LINE_MAX];
	unsigned int pos = 0;

	memset(&st, 0, sizeof(st));
	if (nf_ftp_next_line(&st, 2, hold, "PASV\n", 5, &pos, &line, NULL) ||
	    pos || nf_ftp_hold(&st, 2, hold, "x", 1) ||
	    nf_ftp_next_line(&st, NF_FTP_CLIENT, hold, "PASV\n", 0x80000000U,
			     &pos, &line, NULL) || pos)
		fail("invalid direction or length accepted");
	nf_ftp_resync(&st, 2);
	if (st.flags || st.held[0] || st.held[1])
		fail("state changed: flags %#x", st.flags);
	report("invalid direction or huge length: nothing happens");

	st.held[0] = NF_FTP_LINE_MAX;
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, hold, "x\nPASV\n", 7, &pos,
			     &line, NULL) != 1 || line.len != 4 ||
	    line.start != 2 || st.held[0] || st.flags)
		fail("corrupt held: len %u start %d", line.len, line.start);
	memset(&st, 0, sizeof(st));
	st.held[0] = 3;
	pos = 0;
	if (nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, "x\nPASV\n", 7, &pos,
			     &line, NULL) != 1 || line.start != 2 || st.held[0])
		fail("held without buffer: start %d", line.start);
	report("corrupt held count or missing hold buffer: resync");

	memset(&st, 0, sizeof(st));
	if (nf_ftp_hold(&st, NF_FTP_CLIENT, NULL, "PORT", 4) ||
	    st.held[0] || !(st.flags & NF_FTP_F_RESYNC(0)))
		fail("hold without buffer: held %u", st.held[0]);
	memset(&st, 0, sizeof(st));
	st.held[1] = NF_FTP_LINE_MAX + 7;
	if (nf_ftp_hold(&st, NF_FTP_SERVER, hold, "227", 3) ||
	    st.held[1] || !(st.flags & NF_FTP_F_RESYNC(1)))
		fail("hold with corrupt held: held %u", st.held[1]);
	report("nf_ftp_hold without a buffer or with a corrupt count: resync");

	memset(&st, 0, sizeof(st));
	st.flags = NF_FTP_F_EPSV;
	if (nf_ftp_process_line(&st, NF_FTP_SERVER, "229 (|||1025|)", 14, 0,
				&sender, &pol, &m) != NF_FTP_V_REFUSE ||
	    m.reason != NF_FTP_R_FAMILY || st.flags)
		fail("229 with family 0: reason %d", m.reason);
	report("229 on a connection of unknown family refused (FAMILY)");
}

/* nf_ftp_scan(): one client segment cut into pieces of @piece bytes. */
struct scase {
	const char *desc;
	u16 flags;		/* state before */
	u16 held;
	const char *seg;
	int ret;		/* nf_ftp_scan_end(), or -1 for nf_ftp_scan() */
	unsigned int lines, overflows;
	u16 flags_after;	/* when ret == 0 */
	u16 held_after;
};

#define IGN	NF_FTP_F_IGNORE(NF_FTP_CLIENT)
#define DISC	NF_FTP_F_DISCARD(NF_FTP_CLIENT)
#define RSYN	NF_FTP_F_RESYNC(NF_FTP_CLIENT)

static const struct scase scases[] = {
	{ "scan: boring lines counted", 0, 0, "NOOP\r\nTYPE I\r\nCWD /pub\r\n",
	  0, 3, 0, 0, 0 },
	{ "scan: PASV and EPSV set their flags", 0, 0,
	  "NOOP\r\npasv\r\nEpSv\r\nPWD\n", 0, 4, 0,
	  NF_FTP_F_PASV | NF_FTP_F_EPSV, 0 },
	{ "scan: AUTH TLS sets AUTH", 0, 0, "auth tls\r\n", 0, 1, 0,
	  NF_FTP_F_AUTH, 0 },
	{ "scan: AUTH with an unknown mechanism sets nothing", 0, 0,
	  "AUTH GSSAPI\r\n", 0, 1, 0, 0, 0 },
	{ "scan: PASVX is no PASV", 0, 0, "PASVX\r\n", 0, 1, 0, 0, 0 },
	{ "scan: PORT needs the full path", 0, 0, "NOOP\r\nPORT 1,2,3,4,5,6\r\n",
	  -1, 0, 0, 0, 0 },
	{ "scan: eprt (any case) needs the full path", 0, 0, "NOOP\r\neprt |1|",
	  -1, 0, 0, 0, 0 },
	{ "scan: a boring tail is passed over", 0, 0, "NOOP\r\nLIST -a", 0, 1,
	  0, IGN, 7 },
	{ "scan: a tail that may become PORT is held", 0, 0,
	  "NOOP\r\nPO", 0, 1, 0, 0, 2 },
	{ "scan: a PASV tail is held", 0, 0, "NOOP\r\nPASV\r", 0, 1, 0, 0, 5 },
	{ "scan: a one-byte boring tail is passed over", 0, 0, "NOOP\r\nX", 0,
	  1, 0, IGN, 1 },
	{ "scan: a passed-over line ends, the next is looked at", IGN, 10,
	  "yz\r\nPASV\r\n", 0, 2, 0, NF_FTP_F_PASV, 0 },
	{ "scan: a passed-over line grows on", IGN, 10, "xyz", 0, 0, 0, IGN,
	  13 },
	{ "scan: a passed-over line overflows, then skips", IGN, 500,
	  "0123456789ab", 0, 0, 1, DISC, 0 },
	{ "scan: a passed-over line overflows at its newline", IGN, 500,
	  "0123456789ab\r\nNOOP\r\n", 0, 1, 1, 0, 0 },
	{ "scan: skipping (resync) to the first newline", RSYN, 0,
	  "PORT 1,2,3,4,5,6\r\nNOOP\r\n", 0, 1, 0, 0, 0 },
	{ "scan: skipping through a whole segment", DISC, 0, "PORT 1,2,3,4",
	  0, 0, 0, DISC, 0 },
	{ "scan: a held line is taken over", 0, 3, "V\r\n", 0, 1, 0,
	  NF_FTP_F_PASV, 0 },
	{ "scan: a held line that becomes PORT needs the full path", 0, 3,
	  "T 1,2,3,4,5,6\r\n", -1, 0, 0, 0, 0 },
	{ "scan: a held line that cannot matter is passed over", 0, 3,
	  "X x\r\nNOOP", 0, 1, 0, IGN, 4 },
	{ "scan: a long held line needs the full path", 0, 65, "\r\n", -1, 0,
	  0, 0, 0 },
	{ "scan: TLS needs the full path", NF_FTP_F_TLS, 0, "NOOP\r\n", -1, 0,
	  0, 0, 0 },
	{ "scan: short lines", 0, 0, "\n\r\nA\nAB\r\n", 0, 4, 0, 0, 0 },
	{ "scan: a PASV line longer than NF_FTP_SCAN_LINE needs the full path",
	  0, 0, "PASV                                                              "
	  "      \r\n", -1, 0, 0, 0, 0 },
	{ "scan: P, E and A lines that are no verbs are passed over", 0, 0,
	  "NOOP\r\nPWD\r\nNOOP\r\nECHO x\r\nABOR\r\nPASS pw\r\nAPPE f\r\n"
	  "PAS\r\nEPS\r\nNOOP\r\n", 0, 10, 0, 0, 0 },
	{ "scan: a verb at the first byte of a word (after an 8-byte line)",
	  0, 0, "TYPE I\r\nPASV\r\nNOOP\r\n", 0, 3, 0, NF_FTP_F_PASV, 0 },
	{ "scan: a verb after a P line in the same word", 0, 0,
	  "X\nP\nPASV\r\nNOOP\r\nNOOP\r\n", 0, 5, 0, NF_FTP_F_PASV, 0 },
	{ "scan: a verb after a long boring line", 0, 0,
	  "SIZE /pub/debian/ls-lR.gz\r\nePsV\r\nSYST\r\nNOOP\r\n", 0, 4, 0,
	  NF_FTP_F_EPSV, 0 },
	{ "scan: PASV and EPSV with arguments", 0, 0,
	  "PASV x\r\nNOOP\r\nEPSV ALL\r\nNOOP\r\n", 0, 4, 0,
	  NF_FTP_F_PASV | NF_FTP_F_EPSV, 0 },
	{ "scan: PASV followed by a tab is no PASV", 0, 0,
	  "PASV\tx\r\nNOOP\r\nNOOP\r\n", 0, 3, 0, 0, 0 },
	{ "scan: PORT at the first byte of a word needs the full path", 0, 0,
	  "TYPE I\r\nPORT 1,2,3,4,5,6\r\n", -1, 0, 0, 0, 0 },
	{ "scan: a verb whose first bytes end the piece", 0, 0,
	  "NOOP\r\nNOOP\r\nNOOP\r\nPA", 0, 3, 0, 0, 2 },
	{ "scan: flags of the session and the caller survive",
	  NF_FTP_F_EPSV | 0x0300, 0, "NOOP\r\n", 0, 1, 0,
	  NF_FTP_F_EPSV | 0x0300, 0 },
};

static char scan_hold[NF_FTP_LINE_MAX];

static int scan_run(struct nf_ftp_state *st, const char *seg, unsigned int len,
		    unsigned int piece, struct nf_ftp_scan *sc)
{
	unsigned int at = 0, n;

	nf_ftp_scan_begin(sc, st, scan_hold, NF_FTP_AF_INET);
	while (at < len) {
		n = piece && piece < len - at ? piece : len - at;
		if (nf_ftp_scan(sc, seg + at, n))
			return -1;
		at += n;
	}
	return nf_ftp_scan_end(sc, st, scan_hold);
}

static void test_scan(void)
{
	static const unsigned int pieces[] = { 0, 1, 2, 3, 5, 7, 8, 13 };
	struct nf_ftp_state st, before;
	struct nf_ftp_scan sc;
	unsigned int i, k;
	char big[4096];
	int ret;

	for (i = 0; i < ARRAY_SIZE(scases); i++) {
		const struct scase *t = &scases[i];

		for (k = 0; k < ARRAY_SIZE(pieces); k++) {
			memset(&st, 0, sizeof(st));
			st.flags = t->flags;
			st.held[NF_FTP_CLIENT] = t->held;
			memset(scan_hold, 'x', sizeof(scan_hold));
			memcpy(scan_hold, strncmp(t->desc, "scan: a held line that",
						  22) ? "PAS" : "POR", 3);
			before = st;
			ret = scan_run(&st, t->seg, strlen(t->seg), pieces[k],
				       &sc);
			if (ret != t->ret) {
				fail("pieces of %u: returned %d", pieces[k],
				     ret);
			} else if (ret) {
				if (memcmp(&st, &before, sizeof(st)))
					fail("pieces of %u: state changed",
					     pieces[k]);
			} else if (sc.lines != t->lines ||
				   sc.overflows != t->overflows ||
				   st.flags != t->flags_after ||
				   st.held[NF_FTP_CLIENT] != t->held_after) {
				fail("pieces of %u: lines %u overflows %u flags %#x held %u",
				     pieces[k], sc.lines, sc.overflows,
				     st.flags, st.held[NF_FTP_CLIENT]);
			}
		}
		report("%s", t->desc);
	}

	/* a long boring line in one segment: dropped, counted */
	memset(big, 'x', sizeof(big));
	memcpy(big, "NOOP ", 5);
	memcpy(big + sizeof(big) - 8, "\r\nPWD\r\n", 7);
	memset(&st, 0, sizeof(st));
	ret = scan_run(&st, big, sizeof(big) - 1, 0, &sc);
	if (ret || sc.lines != 1 || sc.overflows != 1 || st.flags || st.held[0])
		fail("returned %d, lines %u overflows %u", ret, sc.lines,
		     sc.overflows);
	report("scan: 4 KiB line dropped and counted, next line counted");

	/*
	 * Boring lines around the 512-byte limit, starting at every offset
	 * of a word and cut into pieces of every kind: the word loop must
	 * drop and count exactly the lines the byte-wise path would.
	 */
	{
		static const unsigned int cuts[] = { 0, 7, 64, 300 };
		static char seg[NF_FTP_LINE_MAX + 64];
		unsigned int len, l, p, c, bad = 0;

		for (l = NF_FTP_LINE_MAX - 20; l <= NF_FTP_LINE_MAX + 10; l++) {
			for (p = 1; p <= 8; p++) {
				memset(seg, 'X', p - 1);
				seg[p - 1] = '\n';
				memset(seg + p, 'Y', l);
				len = p + l;
				memcpy(seg + len, "\nPASV\r\n", 7);
				len += 7;
				for (c = 0; c < ARRAY_SIZE(cuts); c++) {
					memset(&st, 0, sizeof(st));
					ret = scan_run(&st, seg, len, cuts[c],
						       &sc);
					if (!ret &&
					    sc.lines == 2 + (l < NF_FTP_LINE_MAX) &&
					    sc.overflows == (l >= NF_FTP_LINE_MAX) &&
					    st.flags == NF_FTP_F_PASV &&
					    !st.held[NF_FTP_CLIENT])
						continue;
					if (!bad++)
						fail("line of %u after %u bytes, pieces of %u: returned %d, lines %u overflows %u flags %#x",
						     l, p, cuts[c], ret,
						     sc.lines, sc.overflows,
						     st.flags);
				}
			}
		}
	}
	report("scan: lines of 492..522 bytes at every word offset, in pieces");

	/* and the full path finishes a line the scan passed over */
	memset(&st, 0, sizeof(st));
	ret = scan_run(&st, "NOOP\r\nSTAT", 10, 3, &sc);
	{
		struct nf_ftp_line line;
		unsigned int pos = 0, ovf = 0;

		if (ret || nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL,
					    " x\r\nPASV\r\n", 10, &pos,
					    &line, &ovf) != 1 ||
		    line.text || line.len || line.start != -4 || pos != 4 ||
		    st.flags || st.held[0] ||
		    nf_ftp_next_line(&st, NF_FTP_CLIENT, NULL, " x\r\nPASV\r\n",
				     10, &pos, &line, &ovf) != 1 ||
		    line.len != 4 || memcmp(line.text, "PASV", 4))
			fail("ret %d pos %u flags %#x", ret, pos, st.flags);
	}
	report("scan then nf_ftp_next_line: the passed-over line ends empty");
}

int main(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pcases); i++)
		run_pcase(&pcases[i]);
	test_splits();
	test_prefixes();
	test_multi();
	test_overflow();
	test_resync();
	test_tls();
	test_parse_direct();
	test_robust();
	test_scan();
	printf("%u passed, %u failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
