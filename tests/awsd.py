#!/usr/bin/env python3
"""awsd.py — awscli, started once per test instead of once per command.

An awscli start costs about 0.7 s of CPU (imports, then the JSON service
models), and the suite runs it thousands of times. This server imports
awscli and loads the models of the services the tests use once; for each
command (tests/awsc.py) it forks, and the child runs the command with the
caller's argv, environment, working directory and standard file
descriptors (passed over the Unix socket), in a session of its own that
shares only the loaded models. The caller gets the exit status. About 0.2 s
of CPU a command.

Usage: python3 awsd.py SOCKET PID
Serves until SOCKET is removed or process PID (the test's shell) is gone.
"""
import json
import os
import signal
import socket
import struct
import sys

import botocore.loaders
import botocore.session
from awscli.clidriver import CLIDriver, EnvironmentVariables, _set_user_agent_for_session
from awscli.plugin import load_plugins

SERVICES = ("s3", "s3api", "sqs", "sns", "events", "iam", "sts", "cloudformation", "lambda")


def warm_loader():
    """A loader with every model the tests' commands need already parsed."""
    session = botocore.session.Session(EnvironmentVariables)
    loader = session.get_component("data_loader")
    for name in SERVICES:
        if name == "s3api":
            continue
        try:
            model = session.get_service_model(name)
            session.create_client(name, region_name="us-east-1", aws_access_key_id="warm",
                                  aws_secret_access_key="warm")
            del model
        except Exception:  # a service this botocore lacks: loaded on use
            pass
    return loader


def run_command(loader, argv):
    """awscli's own create_clidriver(), with the warm loader."""
    session = botocore.session.Session(EnvironmentVariables)
    session.register_component("data_loader", loader)
    _set_user_agent_for_session(session)
    load_plugins(session.full_config.get("plugins", {}),
                 event_hooks=session.get_component("event_emitter"))
    return CLIDriver(session=session).main(argv)


def serve_one(conn, loader):
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    while True:  # the rest of the request, up to the caller's shutdown
        more = conn.recv(1 << 16)
        if not more:
            break
        msg += more
    req = json.loads(msg.decode())
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    try:
        rc = run_command(loader, req["argv"])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # noqa: BLE001 - the caller must get a status
        print("awsd: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        rc = 255
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(struct.pack("!i", rc or 0))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def reap():
    """Waits for the commands that have ended (their CPU time then counts
    in this process's, and so in the test's when it waits for it)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def main():
    path, owner = sys.argv[1], int(sys.argv[2])
    loader = warm_loader()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".new")
    srv.listen(64)
    os.rename(path + ".new", path)  # the socket appears once it listens
    sys.stdout.flush()
    # Ends with its test: when the socket is removed (the test's directory
    # goes at exit) or the test's shell is gone.
    srv.settimeout(1.0)
    while os.path.exists(path) and alive(owner):
        reap()
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        if os.fork() == 0:
            srv.close()
            try:
                serve_one(conn, loader)
            finally:
                os._exit(0)
        conn.close()
    reap()


if __name__ == "__main__":
    main()
