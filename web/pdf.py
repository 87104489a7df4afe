"""Printed forms as PDF files, produced by the same headless Chromium the browser tests use.

The HTML is the print page itself (same template, print CSS inlined, no script), so the PDF and the
printout cannot differ. Chromium runs with a throw-away profile and no background network features;
the page loads nothing from outside. (``--blink-settings=scriptEnabled=false`` would be nicer but
makes Debian's Chromium 156 silently skip printing.)
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import cast

from flask import Flask, Response, current_app
from werkzeug.exceptions import ServiceUnavailable

TIMEOUT_SECONDS = 60
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
)


def chromium_path() -> Path:
    return Path(
        current_app.config.get("CHROMIUM_PATH") or os.environ.get("MOTCUA_CHROMIUM", "/usr/bin/chromium")
    )


def pdf_slots(app: Flask) -> threading.BoundedSemaphore:
    """Chromium renders running at once in this process: each is a browser (hundreds of MB), so
    a burst of PDF requests would otherwise exhaust the server's memory."""
    slots = app.extensions.get("motcua_pdf_slots")
    if slots is None:
        slots = app.extensions["motcua_pdf_slots"] = threading.BoundedSemaphore(
            int(app.config["PDF_MAX_CONCURRENT"])
        )
    return cast(threading.BoundedSemaphore, slots)


def html_to_pdf(html: str) -> bytes:
    """Print ``html`` with Chromium, at most PDF_MAX_CONCURRENT at once; 503 when busy, or when
    Chromium is missing or fails (the HTML page still works)."""
    slots = pdf_slots(current_app)
    if not slots.acquire(timeout=float(current_app.config["PDF_QUEUE_SECONDS"])):
        raise ServiceUnavailable(
            "Máy chủ đang bận tạo các tệp PDF khác; vui lòng thử lại sau ít phút hoặc dùng nút In phiếu.",
            retry_after=30,
        )
    try:
        return _render(html)
    finally:
        slots.release()


def _render(html: str) -> bytes:
    binary = chromium_path()
    if not binary.exists():
        raise ServiceUnavailable(
            "Máy chủ chưa cài Chromium nên chưa tạo được tệp PDF; hãy dùng nút In phiếu."
        )
    with tempfile.TemporaryDirectory(prefix="motcua-pdf-") as tmp:
        page, out = Path(tmp) / "form.html", Path(tmp) / "form.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            subprocess.run(
                [
                    str(binary),
                    *FLAGS,
                    f"--user-data-dir={tmp}/profile",
                    f"--print-to-pdf={out}",
                    page.as_uri(),
                ],
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceUnavailable("Tạo tệp PDF quá lâu; vui lòng thử lại.") from exc
        if not out.exists() or not out.read_bytes().startswith(b"%PDF"):
            raise ServiceUnavailable("Không tạo được tệp PDF; vui lòng dùng nút In phiếu.")
        return out.read_bytes()


def pdf_response(html: str, filename: str) -> Response:
    response = Response(html_to_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def inline_print_css() -> str:
    static = Path(current_app.static_folder or "")
    return (static / "print.css").read_text(encoding="utf-8")
