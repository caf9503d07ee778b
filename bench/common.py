"""What every bench run shares: nginx on 127.0.0.1 (one worker pinned to
CPU 0), one measured run of a client pinned to CPU 1, the URL files."""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"

sys.path.insert(0, os.path.join(ROOT, "tests"))
from nginxd import free_ports  # noqa: E402 (the tests' one home for it)


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def die_with_parent():
    """preexec_fn: the server gets SIGKILL when the bench process dies,
    however it dies."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG


def pin(cpu):
    """taskset prefix, or nothing on a one-CPU machine."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1:
        return ["taskset", "-c", str(cpu)]
    return []


class Nginx:
    def __init__(self, workers_conns=20000):
        self.dir = tempfile.mkdtemp(prefix="salvo-bench-")
        self.workers_conns = workers_conns
        d = self.dir
        subprocess.run(
            f"cd {d} && openssl req -x509 -newkey ec -pkeyopt "
            "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out "
            "cert.pem -days 2 -subj /CN=127.0.0.1 "
            "-addext subjectAltName=IP:127.0.0.1",
            shell=True, check=True, capture_output=True)
        os.makedirs(f"{d}/www")
        os.makedirs(f"{d}/tmp")
        with open(f"{d}/www/16k.bin", "wb") as f:
            f.write(bytes((i * 7) % 251 for i in range(16384)))
        # 1 GiB of zeros, sparse: nginx reads it from the page cache.
        with open(f"{d}/www/1g.bin", "wb") as f:
            f.truncate(1 << 30)
        # A free port can be taken between the probe and nginx's bind:
        # nginx then exits, and starts again on new ports.
        for _ in range(8):
            ports = free_ports(11)
            self.port, self.tls_port = ports[0], ports[1]
            # HTTPS again, with 128 streams a connection: 1,024 at once
            # then take 8 connections (`h2-8`).
            self.tls128_port = ports[2]
            # More origins (ports) of the same server, for the scale-out
            # runs: requests spread over I/O threads and shards by origin.
            self.extra_ports = ports[3:]
            if self._try_start(d):
                return
        raise RuntimeError(f"nginx did not start, see {d}/error.log")

    def _try_start(self, d):
        """True once nginx holds both ports (its pid file says so), False
        when it exited."""
        echo = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
        self.has_slow = os.path.exists(echo)
        slow = ("location /slow/ { echo_sleep 1; echo ok; }"
                if self.has_slow else "")
        locations = f"""
  location = /nginx_status {{ stub_status; }}
  location ~ ^/json/(\\d+)$ {{
    default_type application/json;
    return 200 '{{"id":$1,"name":"item $1"}}';
  }}
  location ~ ^/16k/ {{ root {d}/www; try_files /16k.bin =404; }}
  location = /bytes/1073741824 {{ root {d}/www; try_files /1g.bin =404; }}
  {slow}
"""

        def tls_server(port, streams):
            return f"""server {{
  listen 127.0.0.1:{port} ssl http2 backlog=8192;
  http2_max_concurrent_streams {streams};
  ssl_certificate {d}/cert.pem;
  ssl_certificate_key {d}/key.pem;
  {locations}
 }}"""
        conf = f"""
{"load_module " + echo + ";" if self.has_slow else ""}
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65000;
error_log {d}/error.log error;
pid {d}/nginx.pid;
events {{ worker_connections {self.workers_conns}; multi_accept on; }}
http {{
 access_log off;
 keepalive_requests 100000000;
 keepalive_timeout 300s;
 client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp;
 fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
 server {{ listen 127.0.0.1:{self.port} backlog=8192;
  {" ".join(f"listen 127.0.0.1:{p} backlog=8192;" for p in self.extra_ports)}
  {locations} }}
 {tls_server(self.tls_port, 1024)}
 {tls_server(self.tls128_port, 128)}
}}
"""
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(
            [*pin(0), "/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        for _ in range(1500):  # 30 s: a busy machine is slow to start it
            if self.proc.poll() is not None:
                return False
            try:
                if os.path.exists(f"{d}/nginx.pid"):
                    for p in (self.tls_port, self.tls128_port):
                        socket.create_connection(("127.0.0.1", p),
                                                 0.1).close()
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.1).close()
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"nginx did not start, see {d}/error.log")

    def base(self, tls=False, streams=None):
        """The server's URL: HTTPS when tls, on the port that allows 128
        streams a connection when streams is 128."""
        if tls and streams == 128:
            return f"https://127.0.0.1:{self.tls128_port}"
        return (f"https://127.0.0.1:{self.tls_port}" if tls else
                f"http://127.0.0.1:{self.port}")

    def accepts(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET /nginx_status HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.close()
        m = re.search(rb"requests\s*\n\s*(\d+)", data)
        return int(m.group(1)) if m else -1

    def cpu(self):
        """Seconds of CPU nginx has used (one process, on its own core):
        a run during which it grows by its wall time was bound by the
        server, not by the client."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_once(cmd, nginx, timeout=900, cpu=1):
    """One measured run on CPU 1: the client's CPU (user + sys) and peak
    RSS as GNU time reports them, and the connections nginx accepted
    meanwhile. Linux carries a parent's peak RSS over fork and exec, so
    wait4 from this Python process would report Python's size for small
    clients; time(1) forks them from a small process instead. Outputs go to
    files, so a chatty client never blocks on a full pipe."""
    before = nginx.accepts() if nginx else 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as tm:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%x %M", "-o", tm.name,
             *(pin(cpu) if cpu is not None else []), *cmd],
            stdout=out, stderr=err)
        # wait4 on time(1) counts the client it reaped, to the microsecond.
        _, _, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(), err.read().decode()
        fields = tm.read().split()[-2:]
    rc, rss = (int(fields[0]), int(fields[1])) if len(fields) == 2 else (-1, 0)
    conns = (nginx.accepts() - before - 1) if nginx else None
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_kib": rss, "conns": conns, "out": text, "err": etext,
            "rc": rc}


# ---- clients -------------------------------------------------------------


def url_file(workdir, base, path, n):
    f = os.path.join(workdir, f"urls-{path.strip('/')}-{n}-{abs(hash(base))}")
    if not os.path.exists(f):
        with open(f, "w") as out:
            for i in range(n):
                out.write(f"{base}/{path.strip('/')}/{i}\n")
    return f


def summarize(samples):
    vals = sorted(samples)
    return {"median": statistics.median(vals), "min": vals[0],
            "max": vals[-1]}
