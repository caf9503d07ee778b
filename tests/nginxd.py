"""nginx on 127.0.0.1 for the Python-side tests (the command's and the
package's), with the certificates tests/nginx_certs.sh makes for the run:
  port        HTTPS, HTTP/2 and HTTP/1.1 by ALPN; /proto names the protocol
  mtls_port   the same, asking for a client certificate of the run's CA:
              the body is the subject it verified, or nginx answers 400
  tls12_port  TLS 1.2 and no later; the body names the protocol
  expired_port  the first's names and CA, with a certificate that expired
The C suites' harness (tests/harness.c) starts the same servers, but the
last."""

import os
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_PASSWORD = "salvo-key-pw"  # of client-enc.key


def free_ports(n):
    """n free ports of 127.0.0.1, all different: each probe's socket stays
    bound until the last is taken. One at a time, the kernel may hand out
    a port it just handed out, and two servers of the config then share
    one listener (the first answers for both)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _conf(d, port, mtls_port, tls12_port, expired_port):
    cert = (f"ssl_certificate {d}/server.pem; "
            f"ssl_certificate_key {d}/server.key;")
    return f"""daemon off; master_process off;
error_log {d}/error.log warn; pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{ access_log off; client_body_temp_path {d}/tmp;
 proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
 uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
 ssl_protocols TLSv1.2 TLSv1.3;
 server {{ listen 127.0.0.1:{port} ssl http2; {cert}
  location = /proto {{ return 200 "$ssl_protocol"; }}
  location / {{ return 200 "ok\\n"; }} }}
 server {{ listen 127.0.0.1:{mtls_port} ssl http2; {cert}
  ssl_verify_client on; ssl_client_certificate {d}/ca.pem;
  location / {{ return 200 "$ssl_client_s_dn"; }} }}
 server {{ listen 127.0.0.1:{tls12_port} ssl; ssl_protocols TLSv1.2; {cert}
  location / {{ return 200 "$ssl_protocol"; }} }}
 server {{ listen 127.0.0.1:{expired_port} ssl http2;
  ssl_certificate {d}/expired.pem; ssl_certificate_key {d}/expired.key;
  location / {{ return 200 "ok\\n"; }} }} }}
"""


class Nginx:
    def __init__(self, tmp=None):
        self.dir = tempfile.mkdtemp(dir=tmp, prefix="salvo-nginx-")
        d = self.dir
        subprocess.run(["sh", os.path.join(HERE, "nginx_certs.sh"), d],
                       check=True, capture_output=True)
        self.ca = self.file("ca.pem")
        os.mkdir(os.path.join(d, "tmp"))
        for _ in range(8):  # a free port may be taken before nginx binds it
            self.port, self.mtls_port, self.tls12_port, self.expired_port = (
                free_ports(4))
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(_conf(d, self.port, self.mtls_port, self.tls12_port,
                              self.expired_port))
            self.proc = subprocess.Popen(
                ["/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t0 = time.time()
            while time.time() - t0 < 30 and self.proc.poll() is None:
                if os.path.exists(f"{d}/nginx.pid"):
                    return
                time.sleep(0.02)
            self.stop()
        raise RuntimeError(f"nginx did not start (see {d}/error.log)")

    def file(self, name):
        """A file tests/nginx_certs.sh made (client.pem, capath, ...)."""
        return os.path.join(self.dir, name)

    def url(self, path, host="localhost", port=None):
        return f"https://{host}:{port or self.port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
