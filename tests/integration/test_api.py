#!/usr/bin/env python3
"""The tenant boundary, tried as a hostile tenant would, on a daemon with
its API (ferry serve --api) over a store of this test's, the shared
sandbox's MariaDB and Kafka.

Tokens: printed once, only their hash in the store, revoked ones refused
(401).  A tenant's token sees and changes only its own endpoints and
jobs (another's job is "no job": 404) and no tenant management (a quota
change through the remote CLI is refused: exit 1, "the operator's").
The remote CLI (ferry --server --token-file) prints what the local CLI
prints, for every read command.

The attacks of the issue, each refused:
- a tenant's endpoint with ?socket= (a login by the daemon's OS identity);
- a tenant's password taken from a file or a variable of the daemon;
- a tenant's endpoint to the daemon's loopback MariaDB, with a job over
  mysql.global_priv: the job fails naming the network policy, and its
  topic stays empty;
- a fake MySQL server asking for mysql_clear_password: the password never
  reaches it;
- a fake server answering a query with LOAD DATA LOCAL for a file of the
  daemon's host: nothing of it is sent (Debian's libmariadb refuses by
  default; ferry turns it off for any build: this check guards that);
- a tenant changing or removing an endpoint the operator made (403), or
  naming a CA file in its URL (403);
- a fake broker advertising a loopback address: nothing connects there,
  the job fails naming the broker and the policy;
- 20,000 connections held open against the health listener while a job
  runs: /healthz answers from another address, the daemon holds at most
  a few dozen descriptors for them, and the job's changes keep arriving;
- a 200 MB request header: 431 after 16 KiB, the daemon's memory does not
  grow with it.

A job whose memory budget does not fit under the daemon's ceiling
(--max-memory) waits, queued, and its log says why.  A tenant's
rows-per-second quota holds its job back (throttled time in
/v1/metrics and job show; the rates are measured by bench/throttle.sh, not
here).
"""
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish, missing  # noqa: E402
import ferrytest  # noqa: E402
import test_binlog_live as tbl  # noqa: E402
import fakes  # noqa: E402

for v in ("FERRY_TEST_MYSQL", "FERRY_TEST_KAFKA", "FERRY_SANDBOX"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")
try:
    import avro.io  # noqa: F401
except ImportError:
    missing("python3-avro is not installed")
import dtstopic  # noqa: E402

SB = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")
BROKER = os.environ["FERRY_TEST_KAFKA"]
MYSQL = os.environ["FERRY_TEST_MYSQL"]
PWFILE = os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"]
TAG = f"{os.getpid()}_{int(time.time())}"
TMP = tempfile.mkdtemp(prefix="ferry-api.", dir="/tmp")
DB = os.path.join(TMP, "ferry.db")
ENV = dict(os.environ, FERRY_DB=DB)
ENV.pop("FERRY_TENANT", None)


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(*args, env=None, check_rc=True):
    p = subprocess.run([FERRY, *args], capture_output=True, text=True,
                       env=env or ENV, timeout=120)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr}")
    return p


def local(*args):
    return run(*args).stdout


API_PORT = free_port()
HTTP_PORT = free_port()
API = f"https://localhost:{API_PORT}"
CERT, KEY = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", KEY, "-out", CERT, "-days", "2", "-subj",
                "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1"],
               check=True, capture_output=True)
TLS = ssl.create_default_context(cafile=CERT)


def api(method, path, token, body=None):
    req = urllib.request.Request(API + path, method=method,
                                 data=json.dumps(body).encode()
                                 if body is not None else None)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60, context=TLS) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def remote(tokfile, *args, ca=CERT):
    return run("--server", API, "--token-file", tokfile,
               *(["--server-ca", ca] if ca else []), *args,
               env={k: v for k, v in ENV.items() if k != "FERRY_DB"},
               check_rc=False)


def token(tenant, name):
    p = run("tenant", "token", "add", *([tenant] if tenant else
                                        ["--operator"]))
    t = p.stdout.strip()
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(t + "\n")
    os.chmod(path, 0o600)
    return t, path


def sandbox(*args):
    return subprocess.run([SB, *args], capture_output=True, text=True,
                          check=True).stdout


def job(name, tenant):
    return json.loads(local("--tenant", tenant, "job", "show", name,
                            "--json"))


def until(pred, what, timeout=60):
    end = time.time() + timeout
    v = None
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    check(False, f"timed out waiting for {what} ({v})")
    return v


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def hold_connections(port, n, stop):
    """A process holding n connections to 127.0.0.1:port until stop (a
    file) exists; prints how many connects succeeded."""
    code = f"""
import os, socket, time, resource
resource.setrlimit(resource.RLIMIT_NOFILE, ({n + 64}, {n + 64}))
socks, ok = [], 0
for _ in range({n}):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", {port}))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        continue
    socks.append(s)
    ok += 1
print(ok, flush=True)
while not os.path.exists({stop!r}):
    time.sleep(0.2)
"""
    return subprocess.Popen([sys.executable, "-c", code],
                            stdout=subprocess.PIPE, text=True)


def main():
    db = tbl.DB(os.environ["FERRY_TEST_MYSQL_SOCKET"], PWFILE)
    schema = f"api_{TAG}"
    db.sql(f"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT "
           f"PRIMARY KEY, v VARCHAR(20))")
    topic, evtopic = f"ferry-api-{TAG}", f"ferry-api-evil-{TAG}"
    for t in (topic, evtopic, f"ferry-api-fk-{TAG}"):
        sandbox("topic", os.environ["FERRY_SANDBOX"], t, "1")
    local("tenant", "add", "acme")
    local("tenant", "add", "evil")
    acme, acme_f = token("acme", "acme.tok")
    evil, evil_f = token("evil", "evil.tok")
    dead, _ = token("evil", "dead.tok")

    # Tokens: shown once, hashed in the store, listed without value.
    with open(DB, "rb") as f:
        store = f.read()
    check(acme.encode() not in store and evil.encode() not in store,
          "no token's value is in the store")
    lst = json.loads(local("tenant", "token", "list", "evil", "--json"))
    eq(len(lst), 2, "two tokens of evil listed")
    check(all("token" not in k for k in lst), "listed without value")
    local("tenant", "token", "rm", "evil", str(lst[1]["id"]))

    fake_my = fakes.FakeMySQL(host="127.0.0.2")
    recorder = fakes.Listener(host="127.0.0.1")
    fake_k = fakes.FakeKafka("127.0.0.1", recorder.port,
                             topic=f"ferry-api-fk-{TAG}", host="127.0.0.2")
    log = open(os.path.join(TMP, "serve.log"), "w")
    # Some settings from a file (--config), the rest on the command line.
    conf = os.path.join(TMP, "ferry.conf")
    with open(conf, "w") as f:
        f.write(f"# the daemon of test_api\nhttp = 127.0.0.1:{HTTP_PORT}\n"
                f"tenant-allow = 127.0.0.2/32\n\nmax-memory = 100M\n")
    p = run("serve", "--config", conf + ".missing", check_rc=False)
    eq(p.returncode, 2, "a missing --config file is a usage error")
    with open(conf + ".bad", "w") as f:
        f.write("http = 127.0.0.1:1\nbogus = 1\n")
    p = run("serve", "--config", conf + ".bad", check_rc=False)
    check(p.returncode == 2 and ".bad:2: unknown setting 'bogus'" in
          p.stderr, f"an unknown setting names file and line: {p.stderr}")
    d = subprocess.Popen([FERRY, "serve", "--config", conf,
                          "--api", f"127.0.0.1:{API_PORT}",
                          "--api-cert", CERT, "--api-key", KEY,
                          "--heartbeat-ms", "1000", "--poll-ms", "200",
                          "--retry-min-ms", "200", "--retry-max-ms", "500",
                          "--checkpoint-ms", "200"],
                         env=ENV, stdout=log, stderr=log)
    stop = os.path.join(TMP, "stop-holding")
    holders = []
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", API_PORT),
                                         timeout=1).close()
                return True
            except OSError:
                return False
        until(listening, "the API")
        # TLS: the remote CLI verifies the daemon's certificate.
        p = remote(acme_f, "job", "list", ca=None)
        check(p.returncode == 1 and "TLS" in p.stderr and "certificate" in
              p.stderr, f"an unknown CA is refused: {p.stderr}")
        # Authentication.
        eq(api("GET", "/v1/jobs", None)[0], 401, "no token: 401")
        eq(api("GET", "/v1/jobs", "ferry_" + "A" * 43)[0], 401,
           "an unknown token: 401")
        eq(api("GET", "/v1/jobs", dead)[0], 401, "a revoked token: 401")
        eq(api("GET", "/v1/jobs", evil), (200, []), "evil has no job")

        # The operator sets acme's source up (its own endpoint: not
        # confined); acme adds its Kafka target through the API, which
        # the policy confines: the sandbox's broker is on loopback.
        local("--tenant", "acme", "endpoint", "add", "src", "--mysql",
              MYSQL, "--password-file", PWFILE)
        code, r = api("POST", "/v1/endpoints", acme,
                      {"name": "k", "kafka": BROKER, "compression": "lz4"})
        eq(code, 200, f"acme adds a Kafka endpoint: {r}")
        shown = json.loads(local("--tenant", "acme", "endpoint", "show", "k",
                                 "--json"))
        eq(shown["owner"], "tenant", "the endpoint is marked the tenant's")
        eq(shown.get("compression"), "lz4", "its codec, from the body")
        code, r = api("POST", "/v1/jobs", acme, {
            "name": "j", "source": "src", "target": "k", "topic": topic,
            "tables": [f"{schema}.t"], "allow_no_key": True})
        eq(code, 201, f"acme creates a job: {r}")
        eq(r.get("allow_no_key"), True, "allow_no_key, from the body")
        jid = r.get("id")
        eq(api("POST", f"/v1/jobs/{jid}/start", acme)[0], 200,
           "acme starts it")
        j = until(lambda: (lambda x: x if x["state"] in ("failed",) else
                           None)(job("j", "acme")), "the job to fail")
        check(j is not None and "network policy" in (j["error"] or "")
              and "loopback" in j["error"],
              f"a tenant's loopback broker is refused: {j and j['error']}")

        # Isolation: evil sees nothing of acme, changes nothing.
        eq(api("GET", f"/v1/jobs/{jid}", evil)[0], 404,
           "evil on acme's job: 404")
        eq(api("POST", f"/v1/jobs/{jid}/stop", evil)[0], 404,
           "evil cannot stop acme's job")
        eq(api("DELETE", f"/v1/jobs/{jid}", evil)[0], 404,
           "evil cannot remove acme's job")
        eq(api("GET", "/v1/endpoints", evil), (200, []),
           "evil lists no endpoint of acme's")
        p = remote(evil_f, "tenant", "set", "default", "--max-jobs", "0")
        eq(p.returncode, 1, "a quota change through the API fails")
        check("operator's" in p.stderr, f"and says why: {p.stderr}")
        eq(json.loads(local("tenant", "show", "default", "--json"))
           ["max_jobs"], -1, "the quota is unchanged")
        p = remote(evil_f, "--tenant", "acme", "job", "list")
        eq(p.returncode, 2, "--tenant with --server is refused: the token "
           "says who acts")
        p = remote(evil_f, "job", "list", "--json")
        eq((p.returncode, json.loads(p.stdout or "null")), (0, []),
           "evil's remote job list is its own, empty")

        # The remote CLI prints what the local one prints.
        for args in (("job", "list", "--json"),
                     ("job", "show", "j", "--json"),
                     ("job", "log", "j", "--json"),
                     ("endpoint", "list", "--json"),
                     ("endpoint", "show", "k", "--json"),
                     ("job", "list"), ("endpoint", "list")):
            p = remote(acme_f, *args)
            eq((p.returncode, p.stdout), (0, local("--tenant", "acme",
                                                   *args)),
               f"remote and local agree on {' '.join(args)}")
        # Every REST route reaches its command (docs/API.md's table).
        eq(api("GET", "/v1/endpoints/k", acme),
           (200, json.loads(local("--tenant", "acme", "endpoint", "show",
                                  "k", "--json"))),
           "GET /v1/endpoints/k is endpoint show k --json")
        code, r = api("GET", f"/v1/jobs/{jid}/log", acme)
        check(code == 200 and isinstance(r, list) and len(r) >= 1,
              f"GET /v1/jobs/ID/log lists the job's events: {code}")
        code, r = api("GET", "/v1/status", acme)
        check(code == 200 and [x.get("name") for x in r] == ["j"],
              f"GET /v1/status: acme's job: {code} {r}")
        eq(api("POST", f"/v1/jobs/{jid}/tables", acme, {})[0], 400,
           "POST tables without \"tables\": 400")
        code, r = api("POST", f"/v1/jobs/{jid}/tables", acme,
                      {"tables": ["nodb.nope"]})
        eq(code, 200, f"POST tables: {r}")
        check("nodb.nope" in json.dumps(api("GET", f"/v1/jobs/{jid}",
                                            acme)[1]),
              "POST tables ran add-tables: the job lists the table")
        for path, method in ((f"/v1/jobs/{jid}/frob", "POST"),
                             (f"/v1/jobs/{jid}/log/x", "GET"),
                             (f"/v1/jobs/{jid}/log", "POST"),
                             ("/v1/jobs", "PUT"), ("/v1/", "GET"),
                             ("/v2/jobs", "GET")):
            eq(api(method, path, acme)[0], 404, f"{method} {path}: 404")

        p = remote(acme_f, "job", "show", "nope")
        q = run("--tenant", "acme", "job", "show", "nope", check_rc=False)
        eq((p.returncode, p.stderr), (q.returncode, q.stderr),
           "remote and local fail alike")

        # The host's databases and files.
        code, r = api("POST", "/v1/endpoints", evil, {
            "name": "p", "mysql": "mysql://root@localhost?socket=" +
            os.environ["FERRY_TEST_MYSQL_SOCKET"]})
        eq(code, 403, f"a socket endpoint is refused: {r}")
        code, r = api("POST", "/v1/endpoints", evil, {
            "name": "f", "mysql": "mysql://u@db.example.com",
            "password_ref": "file:/etc/passwd"})
        eq(code, 403, f"a file reference is refused: {r}")
        p = remote(evil_f, "endpoint", "add", "g", "--mysql",
                   "mysql://u@db.example.com", "--password-ref",
                   "env:HOME")
        eq(p.returncode, 1, f"an env reference is refused: {p.stderr}")
        code, r = api("POST", "/v1/endpoints", evil, {
            "name": "loop", "mysql": MYSQL.replace("//root@", "//root@"),
            "password": open(PWFILE).read().strip()})
        eq(code, 200, f"evil names the daemon's own MariaDB: {r}")
        api("POST", "/v1/endpoints", evil, {"name": "ek",
                                            "kafka": "127.0.0.2:9"})
        code, r = api("POST", "/v1/jobs", evil, {
            "name": "steal", "source": "loop", "target": "ek",
            "topic": evtopic, "tables": ["mysql.global_priv"]})
        eq(code, 201, f"a job over mysql.global_priv: {r}")
        api("POST", "/v1/jobs/steal/start", evil)
        j = until(lambda: (lambda x: x if x["state"] == "failed" else None)(
            job("steal", "evil")), "the stealing job to fail")
        check(j is not None and "network policy" in (j["error"] or "") and
              "loopback" in j["error"], f"refused by the policy: "
              f"{j and j['error']}")
        eq(dtstopic.read(BROKER, evtopic), [], "nothing of the host's "
           "accounts reached Kafka")

        # A fake server that asks for the cleartext password.
        secret = f"never-in-clear-{TAG}"
        code, r = api("POST", "/v1/endpoints", evil, {
            "name": "fake", "mysql": f"mysql://u@127.0.0.2:{fake_my.port}",
            "password": secret})
        eq(code, 200, f"an endpoint at the fake server: {r}")
        code, r = api("POST", "/v1/jobs", evil, {
            "name": "clear", "source": "fake", "target": "ek",
            "topic": evtopic, "tables": ["a.b"]})
        api("POST", "/v1/jobs/clear/start", evil)
        until(lambda: fake_my.connections > 0 and (lambda x: x["state"] in (
            "failed",) or x["attempts"] > 0)(job("clear", "evil")),
            "the job to try the fake server")
        time.sleep(1)
        check(fake_my.connections > 0, "the fake MySQL server was reached")
        check(secret.encode() not in fake_my.received,
              "the password never reached the fake server in the clear")

        # A fake server that asks for a file of the daemon's host with
        # LOAD DATA LOCAL: it gets nothing.
        secret_file = os.path.join(TMP, "host-secret")
        with open(secret_file, "w") as f:
            f.write(f"host-file-{TAG}\n")
        fake_in = fakes.FakeMySQLInfile(secret_file, host="127.0.0.2")
        try:
            code, r = api("POST", "/v1/endpoints", evil, {
                "name": "infile", "mysql":
                f"mysql://u@127.0.0.2:{fake_in.port}", "password": "x"})
            eq(code, 200, f"an endpoint at the LOCAL INFILE fake: {r}")
            api("POST", "/v1/jobs", evil, {
                "name": "inf", "source": "infile", "target": "ek",
                "topic": evtopic, "tables": ["a.b"]})
            api("POST", "/v1/jobs/inf/start", evil)
            until(lambda: fake_in.connections > 0 and (lambda x: x[
                "state"] == "failed" or x["attempts"] > 0)(job("inf",
                                                              "evil")),
                "the job to ask the fake")
            time.sleep(1)
            check(fake_in.connections > 0 and b"\x03" in fake_in.received,
                  "the fake was asked a query")
            check(f"host-file-{TAG}".encode() not in fake_in.received,
                  "no file of the daemon's host reached the fake server")
            api("POST", "/v1/jobs/inf/stop", evil)
        finally:
            fake_in.close()

        # The operator's endpoints are not a tenant's to change.
        code, r = api("PATCH", "/v1/endpoints/src", acme,
                      {"mysql": "mysql://root@169.254.169.254"})
        eq(code, 403, f"a tenant cannot change the operator's endpoint: {r}")
        eq(api("DELETE", "/v1/endpoints/src", acme)[0], 403,
           "nor remove it")
        code, r = api("POST", "/v1/endpoints", evil, {
            "name": "ca", "mysql": "mysql://u@db.example.com?tls-ca=/etc/"
            "shadow"})
        eq(code, 403, f"a CA file in the URL is refused: {r}")

        # A fake broker that advertises a loopback address.
        code, r = api("POST", "/v1/endpoints", acme, {
            "name": "fk", "kafka": f"127.0.0.2:{fake_k.port}"})
        eq(code, 200, f"acme names a fake broker: {r}")
        code, r = api("POST", "/v1/jobs", acme, {
            "name": "steer", "source": "src", "target": "fk",
            "topic": f"ferry-api-fk-{TAG}", "tables": [f"{schema}.t"]})
        api("POST", "/v1/jobs/steer/start", acme)
        j = until(lambda: (lambda x: x if x["state"] == "failed" else None)(
            job("steer", "acme")), "the steered job to fail")
        check(j is not None and f"127.0.0.1:{recorder.port}" in
              (j["error"] or "") and "network policy" in j["error"],
              f"the advertised broker is named and refused: "
              f"{j and j['error']}")
        check(fake_k.connections > 0, "the fake broker was asked")
        eq(recorder.connections, 0, "nothing connected where the fake "
           "broker pointed")
        # Its topic list obeys the daemon's policy too (the daemon's
        # --config allows 127.0.0.2, the defaults would not): the fake
        # broker is asked, the broker it advertises refused.
        before = fake_k.connections
        code, r = api("GET", "/v1/endpoints/fk/topics", acme)
        check(code == 400 and "as the cluster advertises it" in
              r.get("error", "") and f"127.0.0.1:{recorder.port}" in
              r["error"], f"topics of the fake broker: refused, naming the "
              f"advertised broker: {code} {r}")
        check(fake_k.connections > before, "the fake broker was asked for "
              "its topics (the daemon's policy reached the command)")
        eq(recorder.connections, 0, "and nothing connected where it "
           "pointed")
        code, r = api("GET", "/v1/endpoints/k/topics", acme)
        check(code == 400 and "network policy" in r.get("error", "") and
              "loopback" in r["error"], f"topics of acme's loopback "
              f"broker: refused: {code} {r}")
        # The precheck through the API, under the daemon's policy: a
        # report (200, "ok": false) whose failing item names the refused
        # broker; nothing connects where the fake broker points; another
        # tenant does not see the job.
        code, r = api("GET", "/v1/jobs/steer/precheck", acme)
        fails = {i["name"]: i for i in r.get("items", [])
                 if i["result"] == "fail"}
        check(code == 200 and r.get("ok") is False and
              "target.connect fk" in fails and "network policy" in
              fails["target.connect fk"]["found"],
              f"the precheck of the steered job: {code} {r}")
        eq(recorder.connections, 0, "the precheck connected nowhere the "
           "fake broker pointed")
        code, r = api("GET", "/v1/jobs/steer/precheck", evil)
        check(code == 404, f"another tenant's precheck: {code} {r}")

        # Resources: a job runs (the operator's, on loopback: not
        # confined), 20,000 connections are held on the health listener.
        local("--tenant", "acme", "endpoint", "add", "ok", "--kafka",
              BROKER)
        # The topic list of a cluster the operator named: what kcat's
        # metadata says, internal topics left out, the same remotely.
        sandbox("topic", os.environ["FERRY_SANDBOX"], f"ferry-api-p3-{TAG}",
                "3")
        # A consumer group's coordinator makes __consumer_offsets.
        try:
            subprocess.run(["kcat", "-b", BROKER, "-G", f"ferry-api-{TAG}",
                            "-e", "-q", f"ferry-api-p3-{TAG}"],
                           capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            pass
        md = json.loads(subprocess.run(
            ["kcat", "-L", "-J", "-b", BROKER], capture_output=True,
            text=True, check=True, timeout=60).stdout)
        want = sorted((t["topic"], len(t["partitions"])) for t in
                      md["topics"] if not t["topic"].startswith("__"))
        got = json.loads(local("--tenant", "acme", "endpoint", "topics",
                               "ok", "--json"))
        eq([(t["topic"], t["partitions"]) for t in got], want,
           "endpoint topics is kcat's list, sorted, without __ topics")
        check((f"ferry-api-p3-{TAG}", 3) in want and any(
            t.startswith("__") for t in (x["topic"] for x in md["topics"])),
            "the list holds the 3-partition topic, and kcat saw an internal "
            "one to leave out")
        check(len(json.loads(local("--tenant", "acme", "endpoint", "topics",
                                   "ok", "--json", "--all"))) > len(got),
              "--all lists the internal topics too")
        p = remote(acme_f, "endpoint", "topics", "ok", "--json")
        eq((p.returncode, json.loads(p.stdout or "null")), (0, got),
           "the remote CLI lists the same topics")
        p = run("--tenant", "acme", "endpoint", "topics", "src",
                check_rc=False)
        check(p.returncode == 1 and "MySQL" in p.stderr,
              f"topics of a MySQL endpoint: {p.stderr}")
        local("--tenant", "acme", "job", "create", "run", "--source", "src",
              "--target", "ok", "--topic", topic, "--tables",
              f"{schema}.t", "--initial", "none")
        local("tenant", "set", "acme", "--max-rows-per-sec", "10")
        local("--tenant", "acme", "job", "start", "run")
        until(lambda: job("run", "acme")["state"] == "incremental",
              "the operator's job to run")
        resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(
            resource.RLIMIT_NOFILE))
        for _ in range(4):
            holders.append(hold_connections(HTTP_PORT, 5000, stop))
        held = sum(int(h.stdout.readline() or 0) for h in holders)
        check(held >= 19000, f"20,000 connections attempted, {held} made")
        fds = len(os.listdir(f"/proc/{d.pid}/fd"))
        check(fds < 300, f"the daemon holds {fds} descriptors under the "
              f"flood (connections capped)")
        hz = socket.socket()
        hz.bind(("127.0.0.2", 0))
        hz.settimeout(5)
        t0 = time.time()
        hz.connect(("127.0.0.1", HTTP_PORT))
        hz.sendall(b"GET /healthz?live HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = hz.recv(4096)
        hz.close()
        check(reply.startswith(b"HTTP/1.1 200"), f"/healthz answers under "
              f"the flood: {reply[:40]!r}")
        check(time.time() - t0 < 5, "and at once")
        for i in range(1, 51):
            db.sql(f"INSERT INTO {schema}.t VALUES ({i}, 'v{i}')")
        got = until(lambda: (lambda m: m if len(
            [x for x in m if x[3]["operation"] == "INSERT"]) >= 50 else
            None)(dtstopic.read(BROKER, topic)), "the job's 50 inserts "
            "under the flood", 90)
        check(got is not None, "the job's changes keep arriving")
        # acme's 10 rows/s held them back: throttled time shows, to acme
        # and not to evil.
        code, m = api("GET", "/v1/metrics", acme)
        run_id = job("run", "acme")["id"]
        mine = [x for x in m if x["id"] == run_id] if code == 200 else []
        check(mine and mine[0]["throttled_ms"] > 1000, f"acme's metrics "
              f"show its job throttled by its rows/s quota: {m}")
        code, m = api("GET", "/v1/metrics", evil)
        acme_ids = {j["id"] for j in json.loads(local(
            "--tenant", "acme", "job", "list", "--json"))}
        eq((code, [x["id"] for x in m if x["id"] in acme_ids]), (200, []),
           "evil's metrics hold no job of acme's")
        until(lambda: job("run", "acme")["throttled_ms"] > 1000,
              "job show to report the throttled time", 30)

        # The daemon's memory ceiling (100M): a job whose budget does not
        # fit beside the running ones waits, and says why.
        local("--tenant", "acme", "job", "create", "big", "--source", "src",
              "--target", "ok", "--topic", topic, "--tables",
              f"{schema}.t", "--initial", "none", "--max-memory", "64M")
        local("--tenant", "acme", "job", "start", "big")
        until(lambda: "waiting: its memory budget (64 MiB)" in local(
            "--tenant", "acme", "job", "log", "big"), "the big job to wait")
        eq(job("big", "acme")["state"], "queued", "and stay queued")
        local("--tenant", "acme", "job", "stop", "big")

        # One 200 MB header: refused at the limit, memory bounded.
        before = rss_kb(d.pid)
        s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=10)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: ")
            chunk = b"a" * (1 << 20)
            for _ in range(200):
                s.sendall(chunk)
        except OSError:
            pass
        try:
            reply = s.recv(4096)
        except OSError:
            reply = b""
        s.close()
        check(reply.startswith(b"HTTP/1.1 431") or reply == b"",
              f"a 200 MB header is refused: {reply[:60]!r}")
        after = rss_kb(d.pid)
        check(after - before < 64 * 1024, f"the daemon's memory grew by "
              f"{(after - before) // 1024} MiB for it")
    finally:
        with open(stop, "w"):
            pass
        for h in holders:
            try:
                h.wait(timeout=10)
            except subprocess.TimeoutExpired:
                h.kill()
        if d.poll() is None:
            d.terminate()
            try:
                d.wait(timeout=30)
            except subprocess.TimeoutExpired:
                d.kill()
        log.close()
        fake_my.close()
        fake_k.close()
        recorder.close()


try:
    main()
finally:
    if ferrytest.failures:
        print(f"kept {TMP}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", TMP])
finish()
