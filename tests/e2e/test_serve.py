"""`ml-connector serve` as a real process on 127.0.0.1: it answers, signs people in, and stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ml_connector.serve import free_port

PASSWORD = "correct horse battery"


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer within 60 s")


def test_serve_answers_health_and_signs_in_a_user_from_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    env["ML_CONNECTOR_HOME"] = str(tmp_path / "home")
    env["ML_CONNECTOR_METRICS_TOKEN"] = "metrics-token-123"
    command = [sys.executable, "-c", "from ml_connector.cli import main; main()"]
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    subprocess.run(
        [
            *command,
            "user",
            "add",
            "ada",
            "--role",
            "admin",
            "--password-file",
            str(tmp_path / "pw"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_up(url, proc)
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert (
            httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer metrics-token-123"})
        ).status_code == 200
        with httpx.Client(base_url=url) as browser:
            form = browser.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            answer = browser.post(
                "/login",
                data={"username": "ada", "password": PASSWORD, "csrf_token": token.group(1)},
            )
            assert answer.status_code == 303
            assert browser.get("/api/me").json()["role"] == "admin"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert f"Console on {url}/" in err.decode()
    assert "Traceback" not in err.decode()


def test_demo_serve_leaves_the_console_up_with_a_one_time_sign_in(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    env["ML_CONNECTOR_HOME"] = str(tmp_path / "never-used")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ml_connector.cli import main; main()",
            "demo",
            "--serve",
            "--port",
            str(port),
            "--purchases",
            "20",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and "sign in as" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "demo exited before serving"
        found = re.search(r"Console: (http://127\.0\.0\.1:\d+)/\s+sign in as (\S+) / (\S+)", line)
        assert found, line
        url, user, password = found.groups()
        assert url == f"http://127.0.0.1:{port}"
        _wait_until_up(url, proc)
        with httpx.Client(base_url=url) as browser:
            form = browser.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            signed = browser.post(
                "/login",
                data={"username": user, "password": password, "csrf_token": token.group(1)},
            )
            assert signed.status_code == 303
            connections = browser.get("/api/connections").json()["connections"]
            assert [c["name"] for c in connections] == ["demo"]
            assert connections[0]["last_run"]["status"] == "succeeded"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert "Console stopped." in err
    assert "Traceback" not in err
    assert "purchase orders" in out.lower() or "POs" in out
    assert not (tmp_path / "never-used").exists()
