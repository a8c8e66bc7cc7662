#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ftpha - one FTP control connection, played step by step, for the HA
selftest (selftests/ha.sh): the firewall pair fails over between steps
while the session goes on.

  ftpha.py --connect ADDR [--port 21] --sha HEX [--file NAME]
           [--sync DIR] [--timeout S] [--data-port P] STEP...

Steps, in order, on one control connection to a real server (vsftpd):

  login          read the greeting, USER anonymous (and PASS if asked),
                 TYPE I
  get:MODE       download NAME with MODE pasv, epsv, port or eprt and
                 check its sha256 against --sha
  pasv           send PASV, read the 227 and keep its address
  epsv           send EPSV, read the 229 and keep its port
  pasv-send      send PASV only (the reply is read by pasv-read)
  pasv-read      read the 227 to the PASV sent before, keep its address
  retr           download NAME from the kept passive address
  listen         listen for an active data connection on the control
                 connection's local address (port P, default any); prints
                 "line PORT ..."
  port           send PORT for the listening socket, expect 200
  port-head      send the PORT line up to and including its fourth comma
                 (one segment: the line is unfinished)
  port-tail      send the rest of that line, expect 200 or 500 (the line
                 went unrewritten under NAT); prints "reply CODE"
  retr-active    RETR, accept the server's data connection, check the data
  noop           NOOP, expect 200 (a stream shifted by a sequence
                 adjustment the firewall lost gets "500 Unknown command")
  wait:NAME      print "wait NAME" and wait for the file DIR/NAME
  quit           QUIT, expect 221

Each step done prints "ok STEP"; the first failure prints "fail STEP: WHY"
and exits 1.  Exit 0 after the last step, 2 on a usage error.  Every line
sent goes out in one send() on a TCP_NODELAY socket: one TCP segment.
"""

import argparse
import hashlib
import os
import re
import socket
import sys
import time

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

PASV_RE = re.compile(rb"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)")
EPSV_RE = re.compile(rb"\(\|\|\|(\d+)\|\)")


class StepError(Exception):
    """The step failed; the message says why."""


class Session:
    def __init__(self, args):
        self.args = args
        self.ctl = None
        self.buf = b""
        self.data_addr = None
        self.listener = None
        self.port_line = None

    # --- control connection ---------------------------------------------

    def connect(self):
        family = socket.AF_INET6 if ":" in self.args.connect else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(self.args.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect((self.args.connect, self.args.port))
        self.ctl = s

    def send(self, data):
        self.ctl.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.ctl.recv(4096)
            except socket.timeout:
                raise StepError("no reply within %ss" % self.args.timeout)
            if not chunk:
                raise StepError("control connection closed")
            self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return text.rstrip(b"\r")

    def reply(self, want=None):
        """Read one (possibly multi-line) reply; check its code."""
        first = self.line()
        text = first
        if re.match(rb"^\d{3}-", first):
            code = first[:3]
            while True:
                nxt = self.line()
                text += b"\n" + nxt
                if nxt.startswith(code + b" "):
                    break
        code = text[:3].decode("ascii", "replace")
        if want and not code.startswith(want):
            raise StepError("got %r, want %s" % (text.decode("latin-1"), want))
        return code, text

    def command(self, cmd, want):
        self.send(cmd + b"\r\n")
        return self.reply(want)

    # --- data -------------------------------------------------------------

    def check_data(self, sock):
        h = hashlib.sha256()
        sock.settimeout(self.args.timeout)
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise StepError("data stalled")
            if not chunk:
                break
            h.update(chunk)
        sock.close()
        if h.hexdigest() != self.args.sha:
            raise StepError("data sha256 %s, want %s" % (h.hexdigest(), self.args.sha))

    def retr_passive(self):
        if not self.data_addr:
            raise StepError("no passive address")
        family = socket.AF_INET6 if ":" in self.data_addr[0] else socket.AF_INET
        d = socket.socket(family, socket.SOCK_STREAM)
        d.settimeout(self.args.timeout)
        try:
            d.connect(self.data_addr)
        except OSError as e:
            raise StepError("data connection to %s port %d: %s" %
                            (self.data_addr[0], self.data_addr[1], e))
        self.data_addr = None
        self.command(b"RETR " + self.args.file.encode(), "1")
        self.check_data(d)
        self.reply("226")

    def listen(self):
        local = self.ctl.getsockname()[0]
        family = self.ctl.family
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((local, self.args.data_port))
        s.listen(1)
        s.settimeout(self.args.timeout)
        self.listener = s
        port = s.getsockname()[1]
        if family == socket.AF_INET:
            self.port_line = ("PORT %s,%d,%d" % (local.replace(".", ","),
                                                  port >> 8, port & 0xff)).encode()
        else:
            self.port_line = ("EPRT |2|%s|%d|" % (local, port)).encode()

    def retr_active(self):
        if not self.listener:
            raise StepError("not listening")
        self.send(b"RETR " + self.args.file.encode() + b"\r\n")
        try:
            d, _ = self.listener.accept()
        except socket.timeout:
            raise StepError("no data connection from the server")
        finally:
            self.listener.close()
            self.listener = None
        self.reply("1")
        self.check_data(d)
        self.reply("226")

    # --- steps ------------------------------------------------------------

    def step(self, st):
        name, _, arg = st.partition(":")
        if name == "login":
            self.reply("220")
            code, _ = self.command(b"USER anonymous", None)
            if code == "331":
                self.command(b"PASS ftpha@", "230")
            elif code != "230":
                raise StepError("USER got %s" % code)
            self.command(b"TYPE I", "200")
        elif name == "get":
            if arg in ("pasv", "epsv"):
                self.step(arg)
                self.retr_passive()
            elif arg in ("port", "eprt"):
                self.listen()
                if arg == "eprt" and self.ctl.family == socket.AF_INET:
                    local, port = self.listener.getsockname()[:2]
                    self.port_line = ("EPRT |1|%s|%d|" % (local, port)).encode()
                self.command(self.port_line, "200")
                self.retr_active()
            else:
                raise StepError("bad mode %r" % arg)
        elif name == "pasv":
            self.step("pasv-send")
            self.step("pasv-read")
        elif name == "pasv-send":
            self.send(b"PASV\r\n")
        elif name == "pasv-read":
            _, text = self.reply("227")
            m = PASV_RE.search(text)
            if not m:
                raise StepError("no address in %r" % text)
            n = [int(x) for x in m.groups()]
            self.data_addr = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5])
        elif name == "epsv":
            _, text = self.command(b"EPSV", "229")
            m = EPSV_RE.search(text)
            if not m:
                raise StepError("no port in %r" % text)
            self.data_addr = (self.ctl.getpeername()[0], int(m.group(1)))
        elif name == "retr":
            self.retr_passive()
        elif name == "listen":
            self.listen()
            print("line " + self.port_line.decode(), flush=True)
        elif name == "port":
            self.command(self.port_line, "200")
        elif name in ("port-head", "port-tail"):
            if not self.port_line:
                raise StepError("no PORT line (listen first)")
            cut = [i for i, c in enumerate(self.port_line) if c == ord(",")][3] + 1
            if name == "port-head":
                self.send(self.port_line[:cut])
            else:
                # 200, or 500 from a server that got the line unrewritten
                # and will not connect to an address not the client's.
                self.send(self.port_line[cut:] + b"\r\n")
                code, text = self.reply()
                if code not in ("200", "500"):
                    raise StepError("got %r" % text.decode("latin-1"))
                print("reply " + code, flush=True)
        elif name == "retr-active":
            self.retr_active()
        elif name == "noop":
            self.command(b"NOOP", "200")
        elif name == "wait":
            print("wait " + arg, flush=True)
            path = os.path.join(self.args.sync, arg)
            deadline = time.monotonic() + 120
            while not os.path.exists(path):
                if time.monotonic() > deadline:
                    raise StepError("nobody created %s" % path)
                time.sleep(0.05)
        elif name == "quit":
            self.command(b"QUIT", "221")
        else:
            raise StepError("unknown step")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connect", required=True)
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--sha", required=True)
    ap.add_argument("--file", default="testfile.bin")
    ap.add_argument("--sync", default=".")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--data-port", type=int, default=0)
    ap.add_argument("steps", nargs="+")
    args = ap.parse_args()

    s = Session(args)
    try:
        s.connect()
    except OSError as e:
        print("fail connect: %s" % e, flush=True)
        return EXIT_FAIL
    for st in args.steps:
        try:
            s.step(st)
        except (StepError, OSError) as e:
            print("fail %s: %s" % (st, e), flush=True)
            return EXIT_FAIL
        print("ok " + st, flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
