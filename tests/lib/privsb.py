"""A private sandbox for a daemon test that disturbs its servers (stops,
kills, purges, a replica): its own MariaDB and Kafka under a temporary
directory, its own job store, and the ferry CLI on that store.  Shared by
the tests that need one (outage, disconnect, resnapshot, cascade)."""
import os
import subprocess
import sys
import tempfile

import ferrytest
from ferrytest import FERRY, check, missing

SB = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")


def require():
    """Skip (or, under FERRY_TEST_REQUIRE, fail) without what they need."""
    try:
        import avro.io  # noqa: F401
    except ImportError:
        missing("python3-avro is not installed")
    if subprocess.run(["which", "mariadbd"], capture_output=True).returncode:
        missing("mariadbd is not installed (tools/deps)")


class Private:
    def __init__(self, name):
        self.tmp = tempfile.mkdtemp(prefix=f"ferry-{name}.", dir="/tmp")
        self.dir = os.path.join(self.tmp, "sandbox")
        self.fenv = dict(os.environ,
                         FERRY_DB=os.path.join(self.tmp, "ferry.db"))
        self.env = {}
        self.seconds = []	# the directories of second() servers

    def sandbox(self, *args, env=None):
        """tools/sandbox with args (the directory is the caller's to
        give); its stdout, or RuntimeError with its stderr."""
        p = subprocess.run([SB, *args], capture_output=True, text=True,
                           env=env)
        if p.returncode != 0:
            raise RuntimeError(f"sandbox {' '.join(args)}: "
                               f"{p.stderr.strip()}")
        return p.stdout

    def start(self, *opts):
        """Start the servers (tools/sandbox start OPTS DIR); their
        FERRY_TEST_* variables, also in self.env."""
        self.sandbox("start", *opts, self.dir)
        self.env = dict(line.split("=", 1) for line in
                        self.sandbox("env", self.dir)
                        .replace("export ", "").splitlines())
        return self.env

    def stop(self):
        self.sandbox("stop", self.dir)

    def second(self, only):
        """Another server of one kind (tools/sandbox start --only ONLY)
        in a directory of its own under this test's: its FERRY_TEST_*
        variables, with its directory as FERRY_SANDBOX."""
        d = os.path.join(self.tmp, f"sandbox-{only}")
        self.sandbox("start", "--only", only, d)
        self.seconds.append(d)
        return dict(line.split("=", 1) for line in
                    self.sandbox("env", d).replace("export ",
                                                   "").splitlines())

    def stop_all(self):
        """Stop every server this test started; say, not raise, what
        refused."""
        for d in self.seconds + [self.dir]:
            try:
                self.sandbox("stop", d)
            except RuntimeError as e:
                print(e, file=sys.stderr)

    def ferry(self, *args):
        """The ferry CLI on this test's store: stdout, or RuntimeError."""
        p = subprocess.run([FERRY, *args], capture_output=True, text=True,
                           env=self.fenv, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr}")
        return p.stdout

    def job(self, name):
        """ferry job show NAME --json."""
        import json
        return json.loads(self.ferry("job", "show", name, "--json"))

    def until(self, name, pred, what, timeout=90):
        """Poll job NAME until pred(its job show --json) holds; a failed
        job, or the time running out, is a failed check.  The last
        job show."""
        import time
        end = time.time() + timeout
        j = self.job(name)
        while time.time() < end:
            j = self.job(name)
            if j["state"] == "failed":
                check(False, f"{what}: the job failed: {j['error']}")
                return j
            if pred(j):
                return j
            time.sleep(0.2)
        check(False, f"{what}: not in {timeout} s (state {j['state']}, "
              f"reading {j.get('reading')}, error {j['error']})")
        return j

    def cleanup(self):
        """Keep the directory when a check failed (store, daemon log,
        servers' logs), remove it otherwise."""
        if ferrytest.failures:
            print(f"kept {self.tmp} (store, daemon log, servers' logs)",
                  file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", self.tmp])
