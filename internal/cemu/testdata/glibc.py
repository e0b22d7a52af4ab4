#!/usr/bin/env python3
"""Answer questions about the C library, one per input line.

Each line is "KIND HEX", HEX the input bytes in hex. The answer line is the
C library's result:

  aton    socket.inet_aton (glibc inet_aton): dotted quad, or "-"
  exact   glibc's __inet_aton_exact through ctypes, the IPv4 test of
          getaddrinfo (where the symbol is missing: getaddrinfo with AF_INET
          and AI_NUMERICHOST on inputs without a colon): dotted quad, or "-"
  gai     getaddrinfo(AF_UNSPEC, AI_NUMERICHOST): a dotted quad, or "v6:"
          and the 16 bytes of an IPv6 address in hex (no scope), or "-"
  strtol  strtol(s, &end, 10) through ctypes: "VALUE DIGITS FULL" (0 or 1)
  atoi    atoi(s) through ctypes
  strerror  os.strerror (glibc strerror) of the decimal number N, not hex

Used by cemu's tests (go test ./internal/cemu, -update rewrites
testdata/glibc.txt). No input may hold a NUL byte.
"""
import ctypes
import os
import socket
import sys

libc = ctypes.CDLL(None)
libc.strtol.restype = ctypes.c_long
libc.strtol.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
libc.atoi.restype = ctypes.c_int
libc.atoi.argtypes = [ctypes.c_char_p]
aton_exact = getattr(libc, "__inet_aton_exact", None)
if aton_exact is not None:
    aton_exact.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def answer(kind, arg):
    if kind == "strerror":
        return os.strerror(int(arg))
    b = bytes.fromhex(arg)
    if kind == "aton":
        try:
            return socket.inet_ntoa(socket.inet_aton(b.decode("utf-8")))
        except OSError:
            return "-"
    if kind == "exact" and aton_exact is not None:
        buf = ctypes.create_string_buffer(4)
        if aton_exact(b, buf) == 0:
            return "-"
        return socket.inet_ntoa(buf.raw)
    if kind == "exact" and b":" in b:
        return "-"  # getaddrinfo(AF_INET) would read a v4-mapped IPv6 address
    if kind in ("exact", "gai"):
        fam = socket.AF_INET if kind == "exact" else socket.AF_UNSPEC
        try:
            r = socket.getaddrinfo(b, None, fam, 0, 0, socket.AI_NUMERICHOST)
        except socket.gaierror:
            return "-"
        fam, addr = r[0][0], r[0][4][0].split("%")[0]
        if fam == socket.AF_INET6:
            return "v6:" + socket.inet_pton(socket.AF_INET6, addr).hex()
        return addr
    if kind == "strtol":
        buf = ctypes.create_string_buffer(b)
        end = ctypes.c_char_p()
        v = libc.strtol(buf, ctypes.byref(end), 10)
        start = ctypes.cast(buf, ctypes.c_void_p).value
        stop = ctypes.cast(end, ctypes.c_void_p).value
        digits = int(stop != start)
        full = int(stop - start == len(b))
        return "%d %d %d" % (v, digits, full)
    if kind == "atoi":
        return str(libc.atoi(b))
    raise SystemExit("unknown kind " + kind)


for line in sys.stdin:
    kind, _, arg = line.rstrip("\n").partition(" ")
    print(answer(kind, arg))
sys.stdout.flush()
