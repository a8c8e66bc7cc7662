// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_ftp (see the input layout there) into
 * the directory given as argument.  Run by "make corpus"; the output is
 * committed, so this only needs to run when the seeds change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C 0
#define S 1
#define RESYNC 6

static unsigned char buf[8192];
static size_t n;

static void start(unsigned int cfg, unsigned int min_port)
{
	buf[0] = cfg;
	buf[1] = min_port & 0xff;
	buf[2] = min_port >> 8;
	n = 3;
}

static void seg_bytes(unsigned int hdr, const char *data, size_t len)
{
	if (len > 255)
		hdr |= 0x80;
	buf[n++] = hdr;
	buf[n++] = len & 0xff;
	if (len > 255)
		buf[n++] = len >> 8;
	memcpy(buf + n, data, len);
	n += len;
}

static void seg(unsigned int hdr, const char *data)
{
	seg_bytes(hdr, data, strlen(data));
}

/* @data split into segments of @step bytes */
static void split(unsigned int hdr, const char *data, size_t step)
{
	size_t len = strlen(data), k;

	for (k = 0; k < len; k += step)
		seg_bytes(hdr, data + k, len - k < step ? len - k : step);
}

static void put(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void raw(const char *dir, const char *name, const char *text)
{
	n = strlen(text);
	memcpy(buf, text, n);
	put(dir, name);
}

int main(int argc, char **argv)
{
	char longline[700];
	const char *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	d = argv[1];

	start(4, 1024);
	seg(S, "220 FTP server ready\r\n");
	seg(C, "USER anonymous\r\n");
	seg(S, "331 Password required\r\n");
	seg(C, "PORT 192,0,2,10,4,1\r\n");
	seg(S, "200 PORT command successful\r\n");
	put(d, "port-v4");

	start(4, 1024);
	seg(C, "TYPE I\r\nPASV\r\n");
	seg(S, "200 Type set to I\r\n");
	seg(S, "227 Entering Passive Mode (198,51,100,20,4,1).\r\n");
	put(d, "pasv-227-v4");

	start(5, 1024);
	seg(C, "EPRT |2|2001:db8::10|1025|\r\n");
	seg(S, "200 EPRT command successful\r\n");
	put(d, "eprt-v6");

	start(5, 1024);
	seg(C, "EPSV\r\n");
	seg(S, "229 Entering Extended Passive Mode (|||50000|)\r\n");
	seg(C, "EPSV 2\r\n");
	seg(S, "229 Entering Extended Passive Mode (!!!50001!)\r\n");
	put(d, "epsv-229-v6");

	start(4, 0);
	seg(C, "EPRT |1|192.0.2.10|1025|\r\nEPSV ALL\r\n");
	seg(S, "200 ok\r\n229 Extended (|||2121|)\r\n");
	put(d, "eprt-epsv-v4");

	start(4, 1024);
	seg(C, "PASV\r\n");
	split(S, "227 Entering Passive Mode (198,51,100,20,195,80)\r\n", 1);
	put(d, "227-bytewise");

	start(4, 1024);
	split(C, "PORT 192,0,2,10,4,1\r\nPORT 192,0,2,10,4,2\r\n", 7);
	seg(C, "PORT 192,0,2,10,4,3\r");
	seg(C, "\nNOOP\r\n");
	put(d, "port-splits");

	start(4 | 8, 1024);
	split(C, "EPRT |1|192.0.2.10|1025|\r\n", 5);
	split(S, "200 ok\r\n", 3);
	put(d, "eprt-lazy-hold");

	start(4, 1024);
	seg(S, "230-Welcome\r\n227 fake (10,0,0,1,4,1)\r\n230-more\r\n");
	seg(S, "230 Logged in\r\n");
	seg(C, "PASV\r\n");
	seg(S, "227-Passive\r\n227 Entering Passive Mode (198,51,100,20,4,1)\r\n");
	put(d, "multiline");

	start(4, 1024);
	seg(C, "AUTH TLS\r\n");
	seg(S, "234 Proceed with negotiation.\r\n");
	seg_bytes(C, "\x16\x03\x01\x00\x05hello", 10);
	seg_bytes(S, "\x16\x03\x03\x00\x05world", 10);
	seg_bytes(C, "\x17\x03\x03\x00\x04PASV", 9);
	seg_bytes(C, "\x15\x03\x03\x00\x02\x01\x00", 7);
	seg(C, "PASV\r\n");
	seg(S, "227 Entering Passive Mode (198,51,100,20,4,1)\r\n");
	put(d, "auth-tls-ccc");

	start(4, 1024);
	seg(C, "AUTH SSL\r\n");
	seg(S, "534 Not allowed\r\n");
	seg(C, "PASV\r\n");
	seg(S, "500 No\r\n");
	put(d, "auth-refused");

	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "SITE ", 5);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	start(4, 1024);
	seg(C, longline);
	seg(C, "PORT 192,0,2,10,4,1\r\n");
	split(S, longline, 100);
	seg(S, "200 ok\r\n");
	put(d, "overflow");

	start(4, 1024);
	seg(C, "PORT 192,0,2,");
	seg(C | RESYNC, "10,4,1\r\nPORT 192,0,2,10,4,1\r\n");
	seg(S | RESYNC, "ok)\r\n200 ok\r\n");
	put(d, "resync");

	start(2, 0);
	seg(C, "PASV\r\n");
	seg(S, "227 Entering Passive Mode 10,0,0,1,4,1\r\n");
	seg(C, "PORT 10,0,0,2,0,20\r\n");
	put(d, "227-noparen-loose");

	start(1, 2000);
	seg(S, "229 Entering Extended Passive Mode (|||1999|)\r\n");
	seg(S, "227 Entering Passive Mode (198,51,100,20,4,1)\r\n");
	put(d, "nopair-lowport-v6");

	start(4, 1024);
	seg(C, "PORT 99999999999999999999,0,2,10,4,1\r\n"
	       "EPRT |1|192.0.2.256|1025|\r\nEPRT |3|x|1|\r\n"
	       "EPRT |2|1::2::3|1025|\r\nport 192,0,2,10,0,0\r\n");
	put(d, "bad-numbers");

	raw(d, "raw-eprt-v6", "EPRT |2|::ffff:192.0.2.1|1025|");
	raw(d, "raw-227", "227 Entering Passive Mode (198,51,100,20,4,1)");
	raw(d, "raw-229", "229 Entering Extended Passive Mode (|||6446|)");
	raw(d, "raw-ipv6", "2001:db8:0:1:2:3:4.5.6.7");
	return 0;
}
