"""Hostile servers for the tenant-boundary tests: a MySQL server that asks
for the cleartext password plugin, a Kafka broker that advertises an
address of the tester's choosing, and a listener that records who
connected.  Each serves on a thread until closed; bytes received are
kept for the test to look at."""
import socket
import struct
import threading


class Listener:
    """A TCP listener on host:port (0: any port) whose handle(conn) runs
    on a thread per connection; .port, .connections, .received."""

    def __init__(self, host="127.0.0.1", port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.host, self.port = self.sock.getsockname()
        self.connections = 0
        self.received = b""
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            self.handle(conn)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def recv(self, conn, n=65536):
        data = conn.recv(n)
        with self.lock:
            self.received += data
        return data

    def handle(self, conn):
        while self.recv(conn):
            pass

    def close(self):
        self.closed = True
        self.sock.close()


def _mysql_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _mysql_greeting(thread_id, plugin, extra_caps=0):
    """A protocol-10 handshake of a MySQL 5.7 offering plugin (bytes)."""
    caps = 0x0200 | 0x8000 | 0x0008 | 0x0001 | 0x0004 | 0x2000 | extra_caps
    caps_hi = 0x0008 | 0x0001       # PLUGIN_AUTH, MULTI_STATEMENTS
    scramble = b"abcdefgh" + b"ijklmnopqrst"
    return (b"\x0a" + b"5.7.99-fake\x00" + struct.pack("<I", thread_id) +
            scramble[:8] + b"\x00" + struct.pack("<H", caps) +
            b"\x21" + struct.pack("<H", 2) + struct.pack("<H", caps_hi) +
            bytes([21]) + b"\x00" * 10 + scramble[8:] + b"\x00" +
            plugin + b"\x00")


class FakeMySQL(Listener):
    """Greets as MySQL 5.7 whose default authentication is
    mysql_clear_password, then, whatever the client answers, asks it to
    switch to mysql_clear_password: a client that would send a password
    in the clear sends it here (it is in .received)."""

    def handle(self, conn):
        conn.sendall(_mysql_packet(0, _mysql_greeting(
            7, b"mysql_clear_password")))
        if not self.recv(conn):
            return
        conn.sendall(_mysql_packet(2, b"\xfemysql_clear_password\x00"))
        while self.recv(conn):
            conn.sendall(_mysql_packet(4, b"\xff\x15\x04#28000Access "
                                       b"denied (fake)"))


class FakeMySQLInfile(Listener):
    """Greets as MySQL 5.7 with mysql_native_password, takes any login,
    and answers the first query with a LOAD DATA LOCAL request for the
    file path: a client that allows LOCAL INFILE sends the file's bytes
    (in .received)."""

    def __init__(self, path, **kw):
        self.path = path
        super().__init__(**kw)

    def handle(self, conn):
        # CLIENT_LOCAL_FILES (0x80) offered
        conn.sendall(_mysql_packet(0, _mysql_greeting(
            8, b"mysql_native_password", 0x0080)))
        if not self.recv(conn):
            return
        conn.sendall(_mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00"))
        buf = b""
        while True:
            data = self.recv(conn)
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                n = buf[0] | buf[1] << 8 | buf[2] << 16
                if len(buf) < 4 + n:
                    break
                seq, body, buf = buf[3], buf[4:4 + n], buf[4 + n:]
                if seq == 0 and body[:1] == b"\x03":     # COM_QUERY
                    conn.sendall(_mysql_packet(1, b"\xfb" +
                                               self.path.encode()))
                elif n == 0:            # the end of the file sent
                    conn.sendall(_mysql_packet(
                        (seq + 1) & 0xff, b"\x00\x00\x00\x02\x00\x00\x00"))


class FakeKafka(Listener):
    """A broker that answers ApiVersions and Metadata, advertising itself
    as node 1 at (adv_host, adv_port): the address the client is steered
    to."""

    def __init__(self, adv_host, adv_port, topic="t", **kw):
        self.adv_host, self.adv_port, self.topic = adv_host, adv_port, topic
        super().__init__(**kw)

    @staticmethod
    def _str(s):
        b = s.encode()
        return struct.pack(">h", len(b)) + b

    def handle(self, conn):
        buf = b""
        while True:
            while len(buf) < 4 or len(buf) < 4 + struct.unpack(
                    ">i", buf[:4])[0]:
                data = self.recv(conn)
                if not data:
                    return
                buf += data
            n = struct.unpack(">i", buf[:4])[0]
            req, buf = buf[4:4 + n], buf[4 + n:]
            key, ver, corr = struct.unpack(">hhi", req[:8])
            if key == 18:               # ApiVersions, in v0's layout
                err = 35 if ver > 0 else 0
                body = struct.pack(">h", err) + struct.pack(">i", 2) + \
                    struct.pack(">hhh", 18, 0, 0) + \
                    struct.pack(">hhh", 3, 0, 1)
            elif key == 3:              # Metadata v0 or v1
                body = struct.pack(">i", 1) + struct.pack(">i", 1) + \
                    self._str(self.adv_host) + \
                    struct.pack(">i", self.adv_port)
                if ver >= 1:
                    body += struct.pack(">h", -1)           # rack: null
                    body += struct.pack(">i", 1)            # controller
                body += struct.pack(">i", 1) + struct.pack(">h", 0) + \
                    self._str(self.topic)
                if ver >= 1:
                    body += b"\x00"                         # internal
                body += struct.pack(">i", 1) + struct.pack(
                    ">hiiii", 0, 0, 1, 1, 1) + struct.pack(">ii", 1, 1)
            else:
                return
            resp = struct.pack(">i", corr) + body
            conn.sendall(struct.pack(">i", len(resp)) + resp)
