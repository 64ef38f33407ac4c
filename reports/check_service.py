"""`imw serve-check`: a small web page where a municipality's clerk pre-checks delivery files.

The clerk uploads one or more files of their provider with the access token the operator issued
(`imw serve-check --issue-token <AGS>`); the page answers at once with the same HTML delivery
report the warehouse writes (`reports.clerk_report`). Nothing is stored: each request runs the
extract gate on a throw-away database with a throw-away key in a temporary folder that is removed
before the response is sent. Tokens are stored only as SHA-256 hashes
(`$IMW_HOME/serve_check/tokens.json`). Limits: `max_files` files and `max_bytes` bytes per
request (checked on Content-Length before anything is read, and again on what arrived).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from contract.spec import FILE_NAME_PATTERN
from core.settings import Settings

TOKENS_FILE = Path("serve_check") / "tokens.json"
MAX_FILES = 20
MAX_BYTES = 50 * 1024 * 1024

_PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Lieferung vorab prüfen</title>
<style>body{{font:15px/1.5 system-ui,Arial,sans-serif;max-width:44rem;margin:2rem auto;
padding:0 1rem}} label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}
button{{margin-top:1rem;padding:.4rem 1rem}}
.error{{background:#fde2e2;color:#7f1d1d;padding:.5rem .8rem}}</style></head>
<body><h1>Lieferung vorab prüfen</h1>
{message}
<p>Wählen Sie eine oder mehrere Dateien Ihrer Lieferung
(<code>&lt;auszug&gt;_&lt;AGS&gt;_&lt;stand&gt;.csv</code> oder <code>.xlsx</code>,
höchstens {max_files} Dateien, zusammen höchstens {max_mb} MB). Die Dateien
werden nur geprüft und sofort wieder gelöscht; nichts wird gespeichert.</p>
<form method="post" action="check" enctype="multipart/form-data">
<label for="token">Zugangsschlüssel</label>
<input id="token" name="token" type="password" size="40" required>
<label for="files">Dateien</label><input id="files" name="files" type="file" multiple required>
<br><button type="submit" id="submit">Prüfen</button></form></body></html>"""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(settings: Settings, provider: str) -> str:
    """A new token for the provider (replacing its old one); only its hash is stored."""
    if not (provider.isdigit() and provider.startswith("08") and len(provider) in (2, 5, 8)):
        raise ValueError(f"not a provider code (AGS 08, 08xxx or 08xxxxxx): {provider!r}")
    path = settings.home / TOKENS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens = json.loads(path.read_text()) if path.exists() else {}
    token = secrets.token_urlsafe(24)
    tokens[provider] = _hash(token)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(tokens, indent=2, sort_keys=True))
    tmp.chmod(0o600)
    tmp.replace(path)
    return token


def provider_of_token(settings: Settings, token: str) -> str | None:
    path = settings.home / TOKENS_FILE
    if not token or not path.exists():
        return None
    digest = _hash(token)
    for provider, stored in json.loads(path.read_text()).items():
        if hmac.compare_digest(stored, digest):
            return provider
    return None


@dataclass(frozen=True)
class Limits:
    max_files: int = MAX_FILES
    max_bytes: int = MAX_BYTES


def check_uploads(files: list[tuple[str, bytes]]) -> str:
    """The German HTML report of these files (the extract gate on a throw-away database)."""
    from ingest.load import Folders, ingest_landing
    from ingest.pseudonymise import throwaway_key
    from reports.delivery import write_delivery_reports

    with tempfile.TemporaryDirectory(prefix="imw-serve-check-") as tmp:
        settings = Settings.from_env(home=tmp, environ={})
        settings.ensure_dirs()
        paths = []
        for name, data in files:
            path = settings.landing / name
            path.write_bytes(data)
            paths.append(path)
        folders = Folders(settings.landing, settings.archive_dir, settings.quarantine_dir,
                          settings.home)  # fmt: skip
        result = ingest_landing(settings.build_db, folders, throwaway_key(), paths,
                                precheck=True)  # fmt: skip
        write_delivery_reports(result, settings.build_db, settings.reports_dir)
        pages = sorted(settings.reports_dir.glob("*/aktuell.html"))
        return "\n".join(p.read_text(encoding="utf-8") for p in pages)


def _error(status: int, text: str, limits: Limits) -> HTMLResponse:
    message = f'<p class="error" id="error">{text}</p>'
    return HTMLResponse(
        _PAGE.format(message=message, max_files=limits.max_files,
                     max_mb=limits.max_bytes // (1024 * 1024)),
        status_code=status,
    )  # fmt: skip


def make_app(settings: Settings, limits: Limits | None = None) -> Starlette:
    limits = limits or Limits()

    async def form(request: Request) -> HTMLResponse:
        return HTMLResponse(_PAGE.format(message="", max_files=limits.max_files,
                                         max_mb=limits.max_bytes // (1024 * 1024)))  # fmt: skip

    async def check(request: Request) -> HTMLResponse:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > limits.max_bytes + 64 * 1024:
            return _error(413, "Die Dateien sind zu groß (oder die Größe fehlt). Bitte "
                          "weniger oder kleinere Dateien hochladen.", limits)  # fmt: skip
        async with request.form(max_files=limits.max_files + 1, max_fields=5) as data:
            provider = provider_of_token(settings, str(data.get("token") or ""))
            if provider is None:
                return _error(401, "Zugangsschlüssel unbekannt. Bitte beim Betrieb einen "
                              "Schlüssel anfordern.", limits)  # fmt: skip
            uploads = [f for f in data.getlist("files") if hasattr(f, "read")]
            if not uploads or len(uploads) > limits.max_files:
                return _error(400, f"Bitte 1 bis {limits.max_files} Dateien wählen.", limits)
            files = []
            total = 0
            for upload in uploads:
                content = await upload.read()
                total += len(content)
                if total > limits.max_bytes:
                    return _error(413, "Die Dateien sind zu groß.", limits)
                name = Path(upload.filename or "").name
                match = FILE_NAME_PATTERN.match(name)
                if match is None or match.group("provider") != provider:
                    return _error(403, f"Die Datei „{escape(name)}“ gehört nicht zu Ihrem Zugang "
                                  f"({provider}): Name &lt;auszug&gt;_{provider}_&lt;stand&gt;.csv "
                                  "erwartet.", limits)  # fmt: skip
                files.append((name, content))
        html = await run_in_threadpool(check_uploads, files)
        return HTMLResponse(html)

    return Starlette(routes=[Route("/", form), Route("/check", check, methods=["POST"])])
