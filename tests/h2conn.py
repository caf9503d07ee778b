"""The server side of an HTTP/2 connection as tests/h2d.py and
tests/h2front.py make it (python3-h2): any bytes allowed out and in (they
test a client's checks), and heads of hundreds of KiB both ways, as
HTTP/1.1 carries them."""
import functools
import os
import subprocess

import h2.config
import h2.connection
import h2.settings

MAX_HEADER_LIST = 16 << 20


def server_connection(settings=None):
    """An H2Connection, not yet initiated; settings ({SettingCodes: value})
    join the preface's SETTINGS."""
    cfg = h2.config.H2Configuration(client_side=False, header_encoding=None,
                                    validate_outbound_headers=False,
                                    normalize_outbound_headers=False,
                                    validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=cfg)
    # python3-hpack's Huffman coder takes seconds on heads of hundreds of
    # KiB; plain literals are as valid (RFC 7541 5.2) and instant.
    conn.encoder.encode = functools.partial(conn.encoder.encode,
                                            huffman=False)
    # Sent in the preface, and in force at once: requests come before the
    # client's acknowledgement, and hpack refuses over 64 KiB until then.
    codes = h2.settings.SettingCodes
    values = {codes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST}
    values.update(settings or {})
    conn.local_settings = h2.settings.Settings(client=False,
                                               initial_values=values)
    conn.decoder.max_header_list_size = MAX_HEADER_LIST
    return conn


def start_front(upstream):
    """tests/h2front.py in front of faultd's port upstream, for the Python
    suites' native-h2 runs: (its process, its port)."""
    proc = subprocess.Popen(
        ["/usr/bin/python3",
         os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "h2front.py"), "--upstream", str(upstream)],
        stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline().split()[1])
