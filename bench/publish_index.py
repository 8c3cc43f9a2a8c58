"""The local index of the publish benchmarks: pypiserver on a free port of
127.0.0.1 with a throw-away `__token__` password, never falling back to
PyPI, and the environment twine and the xtask upload to it with."""

import os
import secrets
import socket
import subprocess
import time
import urllib.request


def start(python, work):
    """Starts the index under `work`; returns (server, url, packages, env)."""
    from passlib.apache import HtpasswdFile  # the managed venv has it

    packages = os.path.join(work, "packages")
    os.makedirs(packages)
    password = "pypi-bench" + secrets.token_hex(16)
    ht = HtpasswdFile(os.path.join(work, "htpasswd"), new=True)
    ht.set_password("__token__", password)
    ht.save()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [python, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port),
         "-P", os.path.join(work, "htpasswd"), "-a", "update", "--disable-fallback", packages],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "simple/", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWINE_", "GITHUB_", "ACTIONS_"))}
    env.update(TWINE_USERNAME="__token__", TWINE_PASSWORD=password)
    return server, url, packages, env
