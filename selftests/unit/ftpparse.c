// SPDX-License-Identifier: GPL-2.0
/*
 * ftpparse - what the shared parser (../../nf_ftp_parse.c) decides for
 * each case of a table, for the differential selftest
 * (selftests/differential.sh), which drives the same cases through the
 * real module and compares.
 *
 *   ftpparse [-n] [-4 CLIENT,SERVER] [-6 CLIENT,SERVER] TABLE
 *
 * TABLE has one case per line, four fields separated by tabs:
 *
 *   NAME  FAMILY  CLIENT  REPLY
 *
 * FAMILY is 4 or 6, the family of the control connection.  CLIENT is
 * what the client sends, REPLY what the server answers it ("-" for
 * "200 ok").  Both take C escapes: \r \n \t \\ and \xHH; "\r\n" is
 * appended to each and each goes out as one TCP segment.  No field may be
 * empty.  Blank lines and lines starting with '#' are skipped.
 *
 * A case is a whole control session, as tools/ftpline.py plays it:
 *
 *   server: 220 hi
 *   client: CLIENT
 *   server: REPLY
 *   client: QUIT
 *   server: 221 bye
 *
 * Every segment goes through nf_ftp_next_line() and every line through
 * nf_ftp_process_line() with the module's default policy (loose=0,
 * pairing=1, min_port=1024).  The sender of a line is the client's or the
 * server's address of FAMILY: by default the selftest topology's
 * (selftests/lib.sh), or those given with -4 and -6.
 *
 * One line per case on stdout, in table order (with -n, prefixed with the
 * case's name and a tab):
 *
 *   EXPECT <address> <port>   a line opened an expectation
 *   REFUSE <counter>          a line was refused; the counter is the one
 *                             the module moves in /proc/net/nf_conntrack_ftp
 *   NONE                      nothing named a data address
 *
 * An over-long line counts as REFUSE refused_overflow.  A case in which
 * more than one line names a data address has no single verdict and is an
 * error in the table.
 *
 * Exit status: 0 done, 1 table error, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "nf_ftp_parse.h"

#define PROG		"ftpparse"
#define VERDICT_MAX	(INET6_ADDRSTRLEN + 64)

/* The topology of selftests/lib.sh. */
#define DEF_CLIENT4	"192.0.2.2"
#define DEF_SERVER4	"198.51.100.2"
#define DEF_CLIENT6	"2001:db8:1::2"
#define DEF_SERVER6	"2001:db8:2::2"

/* The module's counter names (ftp_stat_names in nf_conntrack_ftp.c). */
static const char * const reason_names[__NF_FTP_R_MAX] = {
	[NF_FTP_R_OK]		= "ok",
	[NF_FTP_R_SYNTAX]	= "refused_syntax",
	[NF_FTP_R_NUMBER]	= "refused_bad_number",
	[NF_FTP_R_FAMILY]	= "refused_family",
	[NF_FTP_R_THIRD_PARTY]	= "refused_third_party",
	[NF_FTP_R_LOW_PORT]	= "refused_low_port",
	[NF_FTP_R_UNPAIRED]	= "refused_unpaired",
	[NF_FTP_R_OVERFLOW]	= "refused_overflow",
	[NF_FTP_R_EXPECT]	= "refused_expect_failed",
};

/* Sender addresses: [family index][direction]. */
static union nf_ftp_addr senders[2][2];

/* One session being played. */
struct session {
	struct nf_ftp_state st;
	char hold[2][NF_FTP_LINE_MAX];
	u8 family;
	unsigned int nverdicts;
	char verdict[VERDICT_MAX];
};

static const struct nf_ftp_policy policy = {
	.loose = false,
	.pairing = true,
	.min_port = 1024,
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-n] [-4 CLIENT,SERVER] [-6 CLIENT,SERVER] TABLE\n",
		PROG);
	exit(2);
}

/* "CLIENT,SERVER" of family @af into @s[NF_FTP_CLIENT], @s[NF_FTP_SERVER]. */
static int parse_pair(int af, const char *arg, union nf_ftp_addr *s)
{
	char buf[2 * INET6_ADDRSTRLEN + 2];
	char *comma;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	comma = strchr(buf, ',');
	if (!comma)
		return -1;
	*comma = 0;
	memset(s, 0, 2 * sizeof(*s));
	if (inet_pton(af, buf, s[NF_FTP_CLIENT].ip6) != 1 ||
	    inet_pton(af, comma + 1, s[NF_FTP_SERVER].ip6) != 1)
		return -1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the C escapes of the string @in in place.  Returns the decoded
 * length (the result may hold NUL bytes), or -1 on a bad escape.
 */
static long unescape(char *in)
{
	char *out = in, *p = in;
	int hi, lo;

	while (*p) {
		if (*p != '\\') {
			*out++ = *p++;
			continue;
		}
		switch (*++p) {
		case 'r':
			*out++ = '\r';
			break;
		case 'n':
			*out++ = '\n';
			break;
		case 't':
			*out++ = '\t';
			break;
		case '\\':
			*out++ = '\\';
			break;
		case 'x':
			hi = hexval(p[1]);
			lo = hi < 0 ? -1 : hexval(p[2]);
			if (lo < 0)
				return -1;
			*out++ = (char)(hi << 4 | lo);
			p += 2;
			break;
		default:
			return -1;
		}
		p++;
	}
	return out - in;
}

static void set_verdict(struct session *s, enum nf_ftp_verdict v,
			const struct nf_ftp_match *m)
{
	char addr[INET6_ADDRSTRLEN];
	int af = m->family == NF_FTP_AF_INET6 ? AF_INET6 : AF_INET;

	s->nverdicts++;
	if (v == NF_FTP_V_EXPECT) {
		if (!inet_ntop(af, m->addr.ip6, addr, sizeof(addr)))
			strcpy(addr, "?");
		snprintf(s->verdict, sizeof(s->verdict), "EXPECT %s %u", addr,
			 m->port);
	} else if (m->reason < __NF_FTP_R_MAX) {
		snprintf(s->verdict, sizeof(s->verdict), "REFUSE %s",
			 reason_names[m->reason]);
	} else {
		snprintf(s->verdict, sizeof(s->verdict), "REFUSE reason_%d",
			 (int)m->reason);
	}
}

/*
 * One TCP segment of @dir, handled the way ftp_process() in
 * nf_conntrack_ftp.c does: TLS check, lines, the unfinished tail held,
 * over-long lines counted, nothing more parsed in a segment once a 234
 * has switched the channel to TLS.
 */
static void segment(struct session *s, enum nf_ftp_dir dir,
		    const char *data, unsigned int len)
{
	const union nf_ftp_addr *sender =
		&senders[s->family == NF_FTP_AF_INET6][dir];
	unsigned int pos = 0, overflows = 0;
	struct nf_ftp_match m = { 0 };
	struct nf_ftp_line line;
	enum nf_ftp_verdict v;
	u16 tls;

	if (nf_ftp_tls_segment(&s->st, data, len))
		return;
	for (;;) {
		tls = s->st.flags & NF_FTP_F_TLS;
		if (!nf_ftp_next_line(&s->st, dir, s->hold[dir], data, len,
				      &pos, &line, &overflows)) {
			if (pos < len &&
			    nf_ftp_hold(&s->st, dir, s->hold[dir], data + pos,
					len - pos))
				overflows++;
			break;
		}
		v = nf_ftp_process_line(&s->st, dir, line.text, line.len,
					s->family, sender, &policy, &m);
		if (v != NF_FTP_V_NONE)
			set_verdict(s, v, &m);
		if (!tls && (s->st.flags & NF_FTP_F_TLS))
			break;
	}
	while (overflows--) {
		m.reason = NF_FTP_R_OVERFLOW;
		set_verdict(s, NF_FTP_V_REFUSE, &m);
	}
}

/* @text (@len bytes) and "\r\n" as one segment of @dir. */
static int send_line(struct session *s, enum nf_ftp_dir dir,
		     const char *text, size_t len)
{
	char *buf = malloc(len + 2);

	if (!buf)
		return -1;
	memcpy(buf, text, len);
	memcpy(buf + len, "\r\n", 2);
	segment(s, dir, buf, len + 2);
	free(buf);
	return 0;
}

/* The session of one case, as tools/ftpline.py plays it. */
static int play(struct session *s, const char *client, size_t clen,
		const char *reply, size_t rlen)
{
	static const char greeting[] = "220 hi";
	static const char quit[] = "QUIT";
	static const char bye[] = "221 bye";

	if (send_line(s, NF_FTP_SERVER, greeting, strlen(greeting)) ||
	    send_line(s, NF_FTP_CLIENT, client, clen) ||
	    send_line(s, NF_FTP_SERVER, reply, rlen) ||
	    send_line(s, NF_FTP_CLIENT, quit, strlen(quit)) ||
	    send_line(s, NF_FTP_SERVER, bye, strlen(bye)))
		return -1;
	return 0;
}

/* Split @line at tabs into exactly @n fields; returns 0 or -1. */
static int split(char *line, char **field, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		field[k] = line;
		line = strchr(line, '\t');
		if (k == n - 1)
			return line ? -1 : 0;
		if (!line)
			return -1;
		*line++ = 0;
	}
	return -1;
}

static int table_error(const char *path, unsigned long lineno,
		       const char *what)
{
	fprintf(stderr, "%s: %s:%lu: %s\n", PROG, path, lineno, what);
	return 1;
}

static int run_table(const char *path, FILE *f, bool names)
{
	static const char def_reply[] = "200 ok";
	unsigned long lineno = 0;
	char *line = NULL, *field[4];
	size_t cap = 0;
	ssize_t n;
	long clen, rlen;
	struct session *s;
	const char *reply;
	int ret = 0;

	s = malloc(sizeof(*s));
	if (!s) {
		perror(PROG);
		return 1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (split(line, field, 4)) {
			ret = table_error(path, lineno,
					  "want 4 tab-separated fields");
			break;
		}
		if (!*field[1] || !*field[2] || !*field[3]) {
			ret = table_error(path, lineno, "empty field");
			break;
		}
		if (!field[0][0] || strpbrk(field[0], " #")) {
			ret = table_error(path, lineno, "bad case name");
			break;
		}
		memset(s, 0, sizeof(*s));
		if (!strcmp(field[1], "4")) {
			s->family = NF_FTP_AF_INET;
		} else if (!strcmp(field[1], "6")) {
			s->family = NF_FTP_AF_INET6;
		} else {
			ret = table_error(path, lineno, "family is 4 or 6");
			break;
		}
		clen = unescape(field[2]);
		if (!strcmp(field[3], "-")) {
			reply = def_reply;
			rlen = strlen(def_reply);
		} else {
			reply = field[3];
			rlen = unescape(field[3]);
		}
		if (clen < 0 || rlen < 0) {
			ret = table_error(path, lineno, "bad escape");
			break;
		}
		if (play(s, field[2], clen, reply, rlen)) {
			perror(PROG);
			ret = 1;
			break;
		}
		if (s->nverdicts > 1) {
			ret = table_error(path, lineno,
					  "more than one line names a data address");
			break;
		}
		if (names)
			printf("%s\t", field[0]);
		printf("%s\n", s->nverdicts ? s->verdict : "NONE");
	}
	if (!ret && ferror(f)) {
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
		ret = 1;
	}
	free(line);
	free(s);
	return ret;
}

int main(int argc, char **argv)
{
	const char *c4 = DEF_CLIENT4 "," DEF_SERVER4;
	const char *c6 = DEF_CLIENT6 "," DEF_SERVER6;
	bool names = false;
	FILE *f;
	int opt, ret;

	while ((opt = getopt(argc, argv, "n4:6:h")) != -1) {
		switch (opt) {
		case 'n':
			names = true;
			break;
		case '4':
			c4 = optarg;
			break;
		case '6':
			c6 = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (parse_pair(AF_INET, c4, senders[0])) {
		fprintf(stderr, "%s: bad -4 %s\n", PROG, c4);
		usage();
	}
	if (parse_pair(AF_INET6, c6, senders[1])) {
		fprintf(stderr, "%s: bad -6 %s\n", PROG, c6);
		usage();
	}
	f = fopen(argv[optind], "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[optind],
			strerror(errno));
		return 1;
	}
	ret = run_table(argv[optind], f, names);
	fclose(f);
	if (fflush(stdout)) {
		perror(PROG);
		ret = 1;
	}
	return ret;
}
