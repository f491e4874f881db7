"""Serve the app on loopback and drive it in Debian's headless Chromium through playwright.

The browser is the system's (`apt-get install chromium`), never one playwright downloads. When
it is missing, `chromium_or_reason()` installs it if it can (root, apt-get) and otherwise says
why not, so the browser test skips with that reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Headless flags for a machine with no network but loopback: without the background-networking
#: ones Chromium keeps trying (and failing) to reach update and sync services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
#: Solara's usage telemetry and version check stay off: the page should not phone anywhere.
SERVER_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_or_reason(timeout_s: float = 600.0) -> tuple[str | None, str]:
    """(path of Chromium, "") or (None, why it is not there and could not be installed)."""
    path = find_chromium()
    if path:
        return path, ""
    if shutil.which("apt-get") is None:
        return None, "Chromium is not installed and there is no apt-get to install it"
    if os.geteuid() != 0:
        return None, "Chromium is not installed; install it as root: apt-get install -y chromium"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends",
                                        "chromium"]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            return None, f"Chromium could not be installed ({' '.join(cmd)}: {err})"
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            return None, f"Chromium could not be installed ({' '.join(cmd)}: {last[0]})"
    path = find_chromium()
    return (path, "") if path else (None, "apt-get installed chromium but it is not on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(log: Path, timeout_s: float = 120.0) -> Iterator[str]:
    """`solara run app.py` from the repository root on a free loopback port; yields its URL.
    The server's output goes to `log` (shown when it fails to start)."""
    port = free_port()
    cmd = [sys.executable, "-m", "solara", "run", "app.py", "--production", "--no-open",
           "--no-check-version", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **SERVER_ENV})
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the app server exited ({proc.returncode}):\n"
                                       + log.read_text(errors="replace")[-3000:])
                try:
                    with urllib.request.urlopen(url, timeout=5) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the app server did not answer within {timeout_s:.0f} s:"
                                       "\n" + log.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


# ------------------------------------------------------------------------- reading the page
def key_figures(page) -> dict[str, str]:
    """The 'Today' card's values by key (`day`, `open`, `response_rate`, ...)."""
    pairs = page.eval_on_selector_all(
        ".govsim-figures td[data-key]", "cells => cells.map(c => [c.dataset.key, c.textContent])")
    return dict(pairs)


def wait_for_day(page, prefix: str, timeout_ms: float = 60_000) -> None:
    """Wait until the 'Day' figure starts with `prefix` ("0 (", "not started")."""
    page.wait_for_function(
        "p => { const c = document.querySelector('.govsim-figures td[data-key=day]');"
        " return c !== null && c.textContent.startsWith(p); }", arg=prefix, timeout=timeout_ms)


def images_drawn(page) -> int:
    """How many of the map's and charts' images have loaded with a real size."""
    return page.eval_on_selector_all(
        ".govsim-map img, .govsim-chart img",
        "imgs => imgs.filter(i => i.complete && i.naturalWidth > 100).length")


def image_sources(page) -> list[str]:
    return page.eval_on_selector_all(".govsim-map img, .govsim-chart img",
                                     "imgs => imgs.map(i => i.src)")


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar's select labelled `label`."""
    page.locator(".v-select").filter(has_text=label).first.click()
    menu = page.locator(".menuable__content__active .v-list-item")
    menu.filter(has_text=option).first.click()


def docs_screenshot(out: Path, days: int = 110, switch_day: int = 90) -> None:
    """Redraw the README's picture: the hotline preset with a surge (days 60-73), played to day
    `days`, monthly ranking switched off at `switch_day`. Run from the repository root:
    `.venv/bin/python -m tests.app_browser_helpers docs/img/app.png`."""
    from playwright.sync_api import sync_playwright

    path, why = chromium_or_reason()
    if path is None:
        raise SystemExit(why)
    with app_server(out.with_suffix(".server.log")) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1180})
            page.goto(url, wait_until="networkidle", timeout=120_000)
            wait_for_day(page, "not started", timeout_ms=120_000)
            page.get_by_role("checkbox", name="Surge", exact=True).click(force=True)
            page.get_by_role("button", name="Reset", exact=True).click()
            wait_for_day(page, "not started")
            step = page.get_by_role("button", name="Step", exact=True)
            for day in range(days):
                if day == switch_day:
                    page.get_by_role("switch", name="Monthly scoring and ranking").click(
                        force=True)
                    page.get_by_text("(from tomorrow)").wait_for()
                step.click()
                wait_for_day(page, f"{day} (")
            page.wait_for_timeout(1500)
            partial = out.with_name(f".{out.name}.partial.png")
            page.screenshot(path=str(partial))
            os.replace(partial, out)
        finally:
            browser.close()
    out.with_suffix(".server.log").unlink(missing_ok=True)


if __name__ == "__main__":
    docs_screenshot(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/img/app.png")
