#!/usr/bin/env python3
"""The README's picture of the embed: `tui-sandbox serve` on a free loopback port (its own
temporary history), its /examples page in headless Chromium, the network check and the
fork bomb run, and the page as a person sees it, into screenshots/embed-examples.png.

    .venv/bin/python scripts/embed_screenshot.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots" / "embed-examples.png"
CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    data = tempfile.mkdtemp(prefix="tui-sandbox-embed-")
    server = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "serve", "--port", "0", "--history",
                               f"{data}/history.sqlite3"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              cwd=ROOT, env={**os.environ, "XDG_DATA_HOME": data})
    try:
        port = re.search(r"http://\S+:(\d+)", server.stdout.readline().decode()).group(1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
            page = browser.new_page(viewport={"width": 1000, "height": 1300})
            page.goto(f"http://127.0.0.1:{port}/examples")
            runners = page.locator(".tsb")
            for index in (1, 3):                       # the network check, the fork bomb
                runners.nth(index).locator(".tsb-run").click()
                expect(runners.nth(index).locator(".tsb-verdict")).to_contain_text("OK", timeout=60_000)
            runners.nth(1).scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -60)")
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
