"""Open every page of the built site in headless Chromium, offline, and check it.

    python tools/check_site.py [_build/html] [--screenshot-dir DIR]

The site is served on 127.0.0.1 by Python's http.server; Chromium runs with
every host name resolving to nothing and every connection sent to a dead proxy,
except 127.0.0.1, so a page that needs the internet (a CDN for MathJax, fonts,
scripts) fails here. For each page the check requires

* no console error (uncaught exceptions, failed loads),
* where the page has math, rendered MathJax output (``mjx-container``) for
  every math element and no MathJax error,
* no raw TeX delimiters (``$$``, ``\\(``, ``\\[``) left in the visible text,
* clean outputs (:func:`output_problems`): no stderr box, no printed warning and no
  absolute path of the build machine in any cell output, unless the cell carries the
  tag ``stderr-on-purpose`` (a chapter that shows a warning to the reader),

and it saves a screenshot of the Theorem 1 page (``book/cascade.html``).
Needs Debian's ``chromium`` (``apt-get install chromium``). Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

THEOREM1_PAGE = "book/cascade.html"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000",
]
CONSOLE = re.compile(r':(INFO|WARNING|ERROR):CONSOLE[^\]]*\] "(.*)", source: (\S*)')
BAD_CONSOLE = re.compile(r"Uncaught|Failed to load resource|net::ERR_|Refused to|MathJax.*(error|retry)", re.I)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: install Debian's chromium (apt-get install chromium)")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    handler = functools.partial(Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def visible_text(dom: str) -> str:
    dom = re.sub(r"<(script|style|pre|code|mjx-container|textarea)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


CELL = re.compile(r'<div class="cell( [^"]*)?"')
WARNING_TEXT = re.compile(r"\b[A-Z]\w*Warning\b:|^\s*warnings\.warn", re.M)
MACHINE_PATH = re.compile(r"(/work/|/root/|/home/|/tmp/|/usr/|site-packages|\.venv/)[\w./-]*")
ON_PURPOSE = "tag_stderr-on-purpose"


def output_problems(source: str) -> list[str]:
    """Problems in the cell outputs of one built page (its HTML source): a stderr box, a
    printed warning, or an absolute path of the build machine, in a cell not tagged
    ``stderr-on-purpose``."""
    problems = []
    starts = [m.start() for m in CELL.finditer(source)] + [len(source)]
    for number, (a, b) in enumerate(zip(starts, starts[1:]), start=1):
        chunk = source[a:b]
        head = chunk[:chunk.index(">") + 1]
        if ON_PURPOSE in head or "cell_output" not in chunk:
            continue
        out = chunk[chunk.rfind("<", 0, chunk.index("cell_output")):]
        text = html.unescape(re.sub(r"<[^>]+>", "", out))
        if 'class="output stderr' in out:
            problems.append(f"cell {number}: a stderr box: {text.strip()[:120]!r}")
        elif WARNING_TEXT.search(text):
            problems.append(f"cell {number}: a warning in its output: {WARNING_TEXT.search(text).group(0)!r}")
        path = MACHINE_PATH.search(text)
        if path:
            problems.append(f"cell {number}: a path of the build machine in its output: {path.group(0)!r}")
    return problems


def check_page(chromium: str, url: str, source: str, profile: str, extra=()) -> list[str]:
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *extra, "--dump-dom", url],
                            capture_output=True, text=True, timeout=180)
    dom, problems = result.stdout, []
    if result.returncode != 0 or "<html" not in dom:
        return [f"chromium failed (exit {result.returncode})"]
    for level, message, where in CONSOLE.findall(result.stderr):
        if level == "ERROR" or BAD_CONSOLE.search(message):
            problems.append(f"console: {message} ({where})")
    math_in_source = len(re.findall(r'class="math[ "]', source))
    rendered = dom.count("<mjx-container")
    if rendered < math_in_source:
        problems.append(f"{math_in_source} math elements but only {rendered} rendered by MathJax")
    if "<mjx-merror" in dom or "data-mjx-error" in dom:
        problems.append("MathJax reported a TeX error")
    problems += output_problems(source)
    text = visible_text(dom)
    for raw in ("$$", "\\(", "\\["):
        if raw in text:
            where = text.index(raw)
            problems.append(f"raw {raw!r} in the visible text: ...{text[max(0, where - 40):where + 40]!r}...")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="_build/html")
    parser.add_argument("--screenshot-dir", default="_build/screenshots")
    args = parser.parse_args(argv)
    site = Path(args.site)
    if not (site / "index.html").is_file():
        sys.exit(f"{site}/index.html not found: build the book first")
    chromium = find_chromium()
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = 0
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            source = (site / page).read_text(encoding="utf-8", errors="replace")
            problems = check_page(chromium, base + page, source, profile)
            n_math = len(re.findall(r'class="math[ "]', source))
            print(f"{'FAIL' if problems else 'ok  '} {page} ({n_math} math elements)")
            for problem in problems:
                print("     ", problem)
            failures += bool(problems)
        shots = Path(args.screenshot_dir)
        shots.mkdir(parents=True, exist_ok=True)
        shot = (shots / "theorem1.png").resolve()
        # a tall window from the top of the page (headless Chrome paints a blank picture when it
        # scrolls to an anchor first); Theorem 1 sits in its lower half
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,4200",
                        "--hide-scrollbars", f"--screenshot={shot}", base + THEOREM1_PAGE],
                       capture_output=True, timeout=180)
        # a blank 1280 x 4200 PNG compresses to a few kB; a rendered page is hundreds
        ok = shot.is_file() and shot.stat().st_size > 50_000
        print(f"screenshot of the Theorem 1 page: {shot}" if ok else f"FAIL: no or blank screenshot at {shot}")
        failures += not ok
    server.shutdown()
    print(f"{len(pages) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
