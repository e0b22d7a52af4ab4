#!/usr/bin/env python3
"""Record pg_ident.conf behaviour from running PostgreSQL servers into txtar cases.

Each server runs `local all postgres trust` / `local all all peer map=m`; this
script runs as OS user root, so peer authentication passes the system user
"root" to the map. For each case and server it resets pg_ident.conf to an empty
file, writes the case's files, reloads, records whether the file loaded (and
the error lines logged when it did not), the pg_ident_file_mappings rows
(15+), and for each database user whether the map allowed it (login succeeded,
or failed only later because the role does not exist or cannot log in) or
refused it, with the server's log message.

usage: record.py OUTDIR VERSION:DATADIR:SOCKETDIR:PORT:BINDIR ...
Cases are read from cases.py next to this script.
"""
import os, subprocess, sys, time, shutil, pwd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES

def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)

def write(path, data):
    with open(path, "w") as f:
        f.write(data)
    pg = pwd.getpwnam("postgres")
    os.chown(path, pg.pw_uid, pg.pw_gid)

def reload(srv):
    ver, data, sock, port, bindir = srv
    log = os.path.join(os.path.dirname(data), "log")
    n = sum(1 for _ in open(log))
    run(["runuser", "-u", "postgres", "--", os.path.join(bindir, "pg_ctl"), "-D", data, "reload"])
    for _ in range(50):
        time.sleep(0.05)
        lines = open(log).read().splitlines()[n:]
        if any("reloading configuration files" in l for l in lines):
            time.sleep(0.2)
            return open(log).read().splitlines()[n:]
    raise SystemExit("no reload")

def psql(srv, user, sql):
    ver, data, sock, port, bindir = srv
    return run(["psql", "-h", sock, "-p", str(port), "-U", user, "-d", "postgres", "-Atc", sql])

def msg(line):
    i = line.find("LOG:  ")
    return line[i + 6:] if i >= 0 else None

def record(srv, case):
    ver, data, sock, port, bindir = srv
    out = []
    write(os.path.join(data, "pg_ident.conf"), "")
    reload(srv)
    for name, content in case["files"].items():
        p = os.path.join(data, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        write(p, content)
    lines = reload(srv)
    failed = any("was not reloaded" in l for l in lines)
    out.append("load: " + ("failed" if failed else "ok"))
    if failed:
        for l in lines:
            m = msg(l)
            if m is None or "reloading configuration files" in m or "was not reloaded" in m:
                continue
            out.append("error: " + m)
    if ver >= 15:
        r = psql(srv, "postgres", "select * from pg_ident_file_mappings")
        for row in r.stdout.splitlines():
            out.append("row: " + row)
    log = os.path.join(os.path.dirname(data), "log")
    for u in case["users"]:
        n = sum(1 for _ in open(log))
        r = psql(srv, u, "select 1")
        time.sleep(0.05)
        new = open(log).read().splitlines()[n:]
        text = r.stdout + r.stderr
        allowed = r.returncode == 0 or "does not exist" in text or "not permitted to log in" in text
        m = ""
        for l in new:
            x = msg(l)
            if x and (x.startswith("no match") or x.startswith("regular expression") or x.startswith("provided user name")):
                m = x
        out.append("check: %s %s%s" % (quote(u), "allowed" if allowed else "refused", (": " + m) if m else ""))
    # Paths as the tests see them: the data directory is "/".
    return [l.replace(data, "") for l in out]

def quote(s):
    if s == "" or any(c in s for c in ' "\\') :
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s

def main():
    outdir = sys.argv[1]
    servers = []
    for a in sys.argv[2:]:
        v, d, s, p, b = a.split(":")
        servers.append((int(v), d, s, int(p), b))
    for case in CASES:
        vers = case.get("versions")
        parts = ["# " + l for l in case["note"].splitlines()]
        parts.append("# Recorded by record.py: peer authentication as OS user root, map m.")
        body = []
        for name, content in case["files"].items():
            body.append("-- %s --\n%s" % (name, content))
        for srv in servers:
            if vers and srv[0] not in vers:
                continue
            body.append("-- want %d --\n%s\n" % (srv[0], "\n".join(record(srv, case))))
        with open(os.path.join(outdir, case["name"] + ".txtar"), "w") as f:
            f.write("\n".join(parts) + "\n" + "".join(body))

main()
