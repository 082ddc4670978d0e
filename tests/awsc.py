"""awsc.py ARGS... — run `aws ARGS...` in tests/awsd.py (python3 -S).

Passes argv, the environment, the working directory and file descriptors
0, 1, 2 to the server named by AWSD_SOCKET, and exits with the command's
status (255 when the server died during the command). Runs awscli itself
while the server is not listening yet."""
import json
import os
import socket
import struct
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(os.environ["AWSD_SOCKET"])
except OSError:  # not listening yet (or gone): awscli itself
    os.execvp("aws", ["aws"] + sys.argv[1:])
try:
    req = {"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}
    socket.send_fds(s, [json.dumps(req).encode()], [0, 1, 2])
    s.shutdown(socket.SHUT_WR)
    data = b""
    while len(data) < 4:
        chunk = s.recv(4 - len(data))
        if not chunk:
            break
        data += chunk
except OSError as e:
    print("awsc: %s: %s" % (os.environ.get("AWSD_SOCKET"), e), file=sys.stderr)
    sys.exit(255)
if len(data) < 4:
    print("awsc: the command's process ended without a status", file=sys.stderr)
    sys.exit(255)
sys.exit(struct.unpack("!i", data)[0])
