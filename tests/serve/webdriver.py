"""A small W3C WebDriver client: Debian's chromium driven through its chromedriver, headless,
for the admin pages' browser tests (no Selenium, no browser download).

    with Chrome(profile_dir) as browser:
        browser.get(url); browser.find("#code").send_keys("SU-..."); browser.screenshot(path)
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1280,1000"]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


class WebDriverError(Exception):
    pass


class Element:
    def __init__(self, browser: Chrome, ref: str) -> None:
        self.browser = browser
        self.ref = ref

    def _call(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        return self.browser.call(method, f"/element/{self.ref}/{what}", body)

    @property
    def text(self) -> str:
        return str(self._call("GET", "text"))

    def attribute(self, name: str) -> str | None:
        value = self._call("GET", f"attribute/{name}")
        return None if value is None else str(value)

    def click(self) -> None:
        self._call("POST", "click", {})

    def send_keys(self, text: str) -> None:
        self._call("POST", "value", {"text": text})

    def find_all(self, css: str) -> list[Element]:
        found = self._call("POST", "elements", {"using": "css selector", "value": css})
        return [Element(self.browser, e[ELEMENT]) for e in found]


class Chrome:
    """One headless Chromium session with a fresh profile folder."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.port = _free_port()
        self.driver: subprocess.Popen[bytes] | None = None
        self.base = ""
        self.http = requests.Session()

    def __enter__(self) -> Chrome:
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        root = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get(root + "/status", timeout=5).json()["value"]["ready"]:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)
        options = {"binary": CHROMIUM, "args": [*FLAGS, f"--user-data-dir={self.profile}"]}
        made = self.http.post(root + "/session", timeout=60, json={"capabilities": {
            "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}).json()
        if "sessionId" not in made.get("value", {}):
            raise WebDriverError(f"no browser session: {made}")
        self.base = f"{root}/session/{made['value']['sessionId']}"
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.base:
                self.http.delete(self.base, timeout=30)
        finally:
            if self.driver is not None:
                self.driver.terminate()
                self.driver.wait(timeout=30)
            self.http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(method, self.base + path, json=body, timeout=60).json()
        value = answer.get("value")
        if isinstance(value, dict) and "error" in value:
            raise WebDriverError(f"{value['error']}: {value.get('message', '')[:300]}")
        return value

    def get(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self.call("GET", "/url"))

    def wait_for_url(self, ending: str, timeout: float = 30) -> str:
        """The URL (without its query), once it ends with `ending`: WebDriver does not wait for
        a click's navigation when the page takes its time (the password's scrypt at sign-in)."""
        deadline = time.monotonic() + timeout
        while not (url := self.url).split("?")[0].endswith(ending):
            if time.monotonic() > deadline:
                raise WebDriverError(f"still at {url}, never at ...{ending}")
            time.sleep(0.05)
        if self.script("return document.readyState") != "complete":
            time.sleep(0.2)
        return url

    def until(self, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise WebDriverError(f"waited {timeout:g} s for {what}")
            time.sleep(0.05)

    @property
    def title(self) -> str:
        return str(self.call("GET", "/title"))

    def find(self, css: str) -> Element:
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        return Element(self, found[ELEMENT])

    def find_all(self, css: str) -> list[Element]:
        found = self.call("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[ELEMENT]) for e in found]

    def script(self, source: str, *args: Any) -> Any:
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("GET", "/screenshot")))
        return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
