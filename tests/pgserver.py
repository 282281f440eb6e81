"""A throwaway PostgreSQL cluster for the test session (and benchmarks).

Debian's server binaries, a temp dir, trust auth on 127.0.0.1 and a socket in
the temp dir. initdb refuses root, so as root the cluster belongs to the
`postgres` user (or `nobody`); as anyone else it is simply theirs.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.port = 0
        self.user: str | None = None  # the OS user owning the cluster when we are root
        self._names = itertools.count(1)
        self._made = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)

    def start(self) -> PgServer:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (Debian: apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="listen-pg-"))
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
                break
            else:
                raise RuntimeError("running as root and no postgres or nobody user to own the cluster")
        os.chmod(self.dir, 0o755)
        data, sock = self.dir / "data", self.dir
        self.port = _free_port()
        try:
            self._run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "listen", "-N",
                      "-E", "UTF8", "--locale=C")
            self._run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-t", "30", "-o",
                      f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
                      " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start")
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"PostgreSQL did not start: {(e.stderr or e.stdout).strip()[-500:]}") from None
        self.bindir = bindir
        return self

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://listen@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        """A URL to an empty database of its own: a fresh schema (CREATE DATABASE takes 0.6 s here)."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as c:
            if not self._made:
                c.execute("CREATE DATABASE listen_test TEMPLATE template0")
                self._made = True
        with psycopg.connect(self.url("listen_test"), autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {name}")
        return self.url("listen_test") + f"?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
