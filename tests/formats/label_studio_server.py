"""A real Label Studio server for the slow round-trip test: started from its own virtual
environment (tests/tool_venvs.py) on a free loopback port with a fresh SQLite database in a
temporary folder, and spoken to over HTTP with the standard library.

Authentication follows Label Studio's current API docs: legacy tokens are off by default, so
the client logs in once (a session), creates a personal access token (a JWT refresh token),
and exchanges it for an access token sent as `Authorization: Bearer ...`.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
EMAIL, PASSWORD = "annotator@example.com", "curate-test-1"
START_TIMEOUT = 300        # s: about a minute on 2 cores, more when they are shared


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """`with Server(python, folder) as server:` starts it and waits for /health; leaving
    stops it (terminate, then kill)."""

    def __init__(self, python: Path, folder: Path) -> None:
        self.python, self.folder, self.port = python, folder, free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None
        self.started_in = 0.0
        self.refresh = ""

    def __enter__(self) -> "Server":
        env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(self.folder / "data"),
               "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "false", "SENTRY_DSN": ""}
        self.log = open(self.folder / "server.log", "w")
        start = time.monotonic()
        self.process = subprocess.Popen(
            [str(self.python), "-m", "label_studio.server", "start", "--no-browser",
             "--internal-host", HOST, "--port", str(self.port), "--username", EMAIL,
             "--password", PASSWORD],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder)
        try:
            self._wait(start)
        except BaseException:
            self.__exit__()
            raise
        self.started_in = time.monotonic() - start
        self.refresh = self._refresh_token()
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()

    def _wait(self, start: float) -> None:
        while time.monotonic() - start < START_TIMEOUT:
            if self.process.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {self.process.returncode}: "
                                   + self.tail())
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(2)
        raise TimeoutError(f"Label Studio did not answer /health in {START_TIMEOUT} s: "
                           + self.tail())

    def tail(self) -> str:
        self.log.flush()
        return (self.folder / "server.log").read_text(errors="replace")[-2000:]

    def _refresh_token(self) -> str:
        """Log in and create a personal access token (a JWT refresh token)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{self.url}/user/login/", timeout=30).read()
        csrf = lambda: next(c.value for c in jar if c.name == "csrftoken")  # noqa: E731
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf(), "email": EMAIL,
                                       "password": PASSWORD}).encode()
        opener.open(urllib.request.Request(f"{self.url}/user/login/", form,
                                           headers={"Referer": f"{self.url}/user/login/"}),
                    timeout=30).read()
        made = urllib.request.Request(f"{self.url}/api/token/", b"{}", method="POST", headers={
            "X-CSRFToken": csrf(), "Referer": f"{self.url}/", "Content-Type": "application/json"})
        return json.loads(opener.open(made, timeout=30).read())["token"]

    def call(self, method: str, path: str, body=None, auth: bool = True):
        """JSON in, JSON out; an HTTP error raises with the server's answer."""
        headers = {"Content-Type": "application/json"}
        if auth:   # access tokens live minutes: a fresh one per call
            access = self.call("POST", "/api/token/refresh/", {"refresh": self.refresh},
                               auth=False)["access"]
            headers["Authorization"] = f"Bearer {access}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                text = r.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None
        return json.loads(text) if text else None
