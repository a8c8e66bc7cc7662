#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""cthelper - take the helper off one conntrack entry through ctnetlink.

  cthelper.py detach --src ADDR --dst ADDR --sport PORT --dport PORT

Sends one IPCTNL_MSG_CT_NEW update (no NLM_F_CREATE) for the TCP entry
whose original tuple is src:sport -> dst:dport, carrying CTA_HELP with an
empty helper name: ctnetlink then removes the entry's expectations and
its helper, as "conntrack" cannot.  Run it in the namespace of the entry.

Exit status: 0 done, 1 the kernel refused (errno printed), 2 usage error.
"""

import argparse
import errno
import ipaddress
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_NEW = 0
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 0x2
NLA_F_NESTED = 0x8000

CTA_TUPLE_ORIG = 1
CTA_HELP = 5
CTA_TUPLE_IP = 1
CTA_TUPLE_PROTO = 2
CTA_IP_V4_SRC, CTA_IP_V4_DST, CTA_IP_V6_SRC, CTA_IP_V6_DST = 1, 2, 3, 4
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
CTA_HELP_NAME = 1


def nla(kind, payload, nested=False):
    """One netlink attribute, padded to 4 bytes."""
    if nested:
        kind |= NLA_F_NESTED
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def detach(src, dst, sport, dport):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        raise ValueError("--src and --dst must be of one family")
    if s.version == 4:
        family, ks, kd = socket.AF_INET, CTA_IP_V4_SRC, CTA_IP_V4_DST
    else:
        family, ks, kd = socket.AF_INET6, CTA_IP_V6_SRC, CTA_IP_V6_DST
    tuple_ip = nla(ks, s.packed) + nla(kd, d.packed)
    tuple_proto = (nla(CTA_PROTO_NUM, bytes([socket.IPPROTO_TCP])) +
                   nla(CTA_PROTO_SRC_PORT, struct.pack("!H", sport)) +
                   nla(CTA_PROTO_DST_PORT, struct.pack("!H", dport)))
    orig = nla(CTA_TUPLE_IP, tuple_ip, True) + \
        nla(CTA_TUPLE_PROTO, tuple_proto, True)
    attrs = nla(CTA_TUPLE_ORIG, orig, True) + \
        nla(CTA_HELP, nla(CTA_HELP_NAME, b"\0"), True)
    body = struct.pack("=BBH", family, 0, 0) + attrs
    msg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW
    msg = struct.pack("=IHHII", 16 + len(body), msg_type,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.settimeout(5)
    sock.bind((0, 0))
    sock.send(msg)
    reply = sock.recv(65536)
    sock.close()
    _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
    if kind != NLMSG_ERROR:
        raise OSError(f"unexpected netlink reply type {kind}")
    (err,) = struct.unpack_from("=i", reply, 16)
    return -err


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("detach")
    d.add_argument("--src", required=True)
    d.add_argument("--dst", required=True)
    d.add_argument("--sport", type=int, required=True)
    d.add_argument("--dport", type=int, required=True)
    args = ap.parse_args()
    try:
        err = detach(args.src, args.dst, args.sport, args.dport)
    except ValueError as e:
        print(f"cthelper: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"cthelper: {e}", file=sys.stderr)
        return 1
    if err:
        print(f"cthelper: the kernel refused: {os.strerror(err)} "
              f"({errno.errorcode.get(err, err)})", file=sys.stderr)
        return 1
    print(f"cthelper: helper detached from {args.src}:{args.sport} -> "
          f"{args.dst}:{args.dport}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
