"""Run a sandbox in its own process on 127.0.0.1 (benchmarks and crash tests).

A separate process keeps the simulator's event loop off the connector's CPU core, and lets a
test kill the connector while the sandbox keeps its state.

    with SandboxProcess("cin7", "--purchases", "1000", "--rate-limit", "100000") as cin7:
        cin7.url  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import Literal

import httpx

from ml_connector.serve import free_port

System = Literal["cin7", "qad"]


class SandboxProcess:
    """`ml-connector sandbox <system> --port <free port> <args>` as a child process."""

    def __init__(self, system: System, *args: str, tenant: str = "acme") -> None:
        self.system = system
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tenant = tenant
        code = (
            f"import typer; from ml_connector.sandbox.{system}.cli import serve_{system}; "
            f"typer.run(serve_{system})"
        )
        command = [sys.executable, "-c", code, "--port", str(self.port), *args]
        # stderr goes to a file: a pipe nobody reads would block a chatty sandbox
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(  # noqa: S603 - our own command, no shell
            command, stdout=subprocess.DEVNULL, stderr=self._log
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def base(self) -> str:
        """The API base: Cin7's `/ExternalApi/v2/`, or the QAD tenant's context root."""
        if self.system == "cin7":
            return f"{self.url}/ExternalApi/v2/"
        return f"{self.url}/{self.tenant}/clouderp"

    @property
    def control(self) -> str:
        """Where the `/_sandbox/` test endpoints live."""
        root = self.url if self.system == "cin7" else self.base
        return f"{root}/_sandbox"

    def wait(self, within: float = 60.0) -> SandboxProcess:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                error = self._log.read().decode(errors="replace")
                raise RuntimeError(f"the {self.system} sandbox exited early:\n{error}")
            try:
                if httpx.get(f"{self.control}/stats", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the {self.system} sandbox did not start within {within:.0f} s")

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()

    def __enter__(self) -> SandboxProcess:
        return self.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
