"""A real headless Chromium driven over the DevTools protocol (CDP), with the `websockets` package
uvicorn already brings: enough to open a page, type, click like a person and take a screenshot.

`chromium()` is a fixture-friendly context manager; tests use the `browser` fixture of the test
module, which skips when no Chromium is installed (`apt-get install -y chromium`) unless
REQUIRE_CHROMIUM=1 (CI), where a missing browser fails the run instead of hiding the test.
"""

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "no Chromium found: apt-get install -y chromium (CI sets REQUIRE_CHROMIUM=1 and installs it)"


def find_chromium() -> str:
    """The browser's path; skips the test (fails it with REQUIRE_CHROMIUM=1) when there is none."""
    for name in BINARIES:
        if path := shutil.which(name):
            return path
    if os.environ.get("REQUIRE_CHROMIUM") == "1":
        pytest.fail(INSTALL_HINT)
    pytest.skip(INSTALL_HINT)


class Page:
    """One tab. Every call waits for its answer; events are kept for `wait_event` and `console`."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message and message["id"] in self._pending:
                self._pending.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, timeout=30)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def wait_event(self, method: str, seconds: float = 30) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + seconds
        seen = len(self.events)
        while asyncio.get_running_loop().time() < deadline:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {method} within {seconds}s")

    async def open(self, url: str) -> None:
        seen = len(self.events)
        await self.send("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[seen:]):
            await self.wait_event("Page.loadEventFired")

    async def evaluate(self, expression: str) -> Any:
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def text(self, selector: str) -> str:
        return await self.evaluate(f"document.querySelector({json.dumps(selector)})?.innerText ?? ''")

    async def type_into(self, selector: str, text: str) -> None:
        await self.click(selector)
        await self.send("Input.insertText", text=text)

    async def click(self, selector: str) -> None:
        """A mouse press and release at the element's centre, as a person's click."""
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    async def wait_for_text(self, selector: str, contains: str, seconds: float = 15) -> str:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            text = await self.text(selector)
            if contains in text or asyncio.get_running_loop().time() > deadline:
                return text
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> Path:
        data = (await self.send("Page.captureScreenshot", format="png"))["data"]
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data))
        return path

    def console(self) -> list[str]:
        """Warnings, errors and script exceptions so far (a CSP violation lands here); network log
        entries (the browser's own /favicon.ico 404) and verbose hints are left out."""
        lines = []
        for event in self.events:
            entry = event.get("params", {}).get("entry", {})
            if (
                event.get("method") == "Log.entryAdded"
                and entry["source"] != "network"
                and entry["level"] in ("warning", "error")
            ):
                lines.append(event["params"]["entry"]["text"])
            elif event.get("method") == "Runtime.exceptionThrown":
                lines.append(json.dumps(event["params"]["exceptionDetails"]))
        return lines

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


@contextlib.asynccontextmanager
async def chromium(binary: str) -> AsyncIterator[Page]:
    """A headless Chromium with one tab, stopped (this process only) on exit."""
    with tempfile.TemporaryDirectory(prefix="rms-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            "--headless=new",
            "--no-sandbox",  # root in containers
            "--disable-gpu",
            "--no-first-run",
            "--window-size=800,700",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        stderr: list[bytes] = []
        drain = asyncio.create_task(_collect(process.stderr, stderr))
        try:
            port = await _devtools_port(process, Path(profile), stderr)
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with websockets.connect(ws_url, max_size=None) as ws:
                page = Page(ws)
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                try:
                    yield page
                finally:
                    await page.close()
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            await drain


async def _collect(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while line := await stream.readline():
        into.append(line)


async def _devtools_port(process: asyncio.subprocess.Process, profile: Path, stderr: list[bytes]) -> int:
    """The port Chromium chose, from the DevToolsActivePort file it writes into its profile."""
    active = profile / "DevToolsActivePort"
    for _ in range(300):
        if process.returncode is not None:
            raise RuntimeError(f"Chromium exited ({process.returncode}): {b''.join(stderr).decode(errors='replace')}")
        first = await asyncio.to_thread(_first_line, active)
        if first.isdigit():
            return int(first)
        await asyncio.sleep(0.1)
    raise RuntimeError("Chromium did not open DevTools within 30 s")


def _first_line(path: Path) -> str:
    try:
        return path.read_text().split("\n", 1)[0].strip()
    except FileNotFoundError:
        return ""
