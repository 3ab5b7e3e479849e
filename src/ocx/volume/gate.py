"""Who may reach an export's socket, checked by the kernel before nbdkit sees a connection.

nbdkit 1.32 has no handshake timeout, and its ``limit`` filter counts a connection from the
moment it is accepted, before TLS: anyone who can open TCP connections to an export's port can
hold all its slots without a key. Debian's 1.32.5 ``ip`` filter would keep strangers out, but it
refuses every address rule. So the export's listening socket carries a classic BPF socket
filter instead, attached before nbdkit inherits the socket: packets whose source is not the
consumer's address (the connector's ``ip``) are dropped, the SYN first, so a stranger never gets
a connection, let alone a slot. Connections accepted from the socket inherit the filter, and it
is locked so the process holding the socket cannot remove it.

The socket also has TCP keepalive, which accepted connections inherit: a consumer that vanishes
without closing (a crashed host, a cut link) gives its slots back after about two minutes.
"""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import struct

# Linux <asm-generic/socket.h> and <linux/filter.h>; Python's socket module has no names for them.
SO_ATTACH_FILTER = 26
SO_LOCK_FILTER = 44
SKF_NET_OFF = -0x100000  # loads relative to the packet's network (IP) header
BPF_LD_W_ABS, BPF_LD_B_ABS = 0x20, 0x30
BPF_ALU_AND_K, BPF_JEQ_K, BPF_RET_K = 0x54, 0x15, 0x06
KEEP_WHOLE_PACKET, DROP = 0xFFFFFFFF, 0

KEEPALIVE_IDLE = 60
KEEPALIVE_INTERVAL = 10
KEEPALIVE_PROBES = 6


def consumer_address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address to admit, or None where the connector gives none that a packet could come
    from (absent, or 0.0.0.0/:: as a host bound to every interface reports itself)."""
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return None if address.is_unspecified else address


def admit_only(sock: socket.socket, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    """Drop every packet to ``sock`` (and the connections it accepts) not sent from ``address``."""
    program = ctypes.create_string_buffer(_program(address))
    count = len(program.raw) // 8
    fprog = struct.pack("HP", count, ctypes.addressof(program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    sock.setsockopt(socket.SOL_SOCKET, SO_LOCK_FILTER, 1)


def keep_alive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)


def _program(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
    """Accept when the IP version and every 32-bit word of the source address match.

    IPv4's source is at byte 12 of its header, IPv6's at bytes 8-23; the version is the
    header's first nibble. Each test falls through when equal and jumps to the drop if not."""
    raw = address.packed
    first = 12 if address.version == 4 else 8
    steps = [
        (BPF_LD_B_ABS, SKF_NET_OFF, False),
        (BPF_ALU_AND_K, 0xF0, False),
        (BPF_JEQ_K, address.version << 4, True),
    ]
    for i in range(0, len(raw), 4):
        steps.append((BPF_LD_W_ABS, SKF_NET_OFF + first + i, False))
        steps.append((BPF_JEQ_K, int.from_bytes(raw[i : i + 4], "big"), True))
    drop = len(steps) + 1  # the instruction after the accepting return
    insns = [_insn(code, k, drop - n - 1 if test else 0) for n, (code, k, test) in enumerate(steps)]
    return b"".join([*insns, _insn(BPF_RET_K, KEEP_WHOLE_PACKET), _insn(BPF_RET_K, DROP)])


def _insn(code: int, k: int, jump_if_false: int = 0) -> bytes:
    return struct.pack("HBBI", code, 0, jump_if_false, k & 0xFFFFFFFF)
