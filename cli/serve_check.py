"""`imw serve-check`: serve the clerks' pre-check page (reports.check_service) with uvicorn, or
issue a provider's access token (`--issue-token AGS`)."""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings


def cmd_serve_check(args: argparse.Namespace) -> int:
    from reports.check_service import Limits, issue_token, make_app

    settings = Settings.from_env(home=args.home)
    if args.issue_token:
        try:
            token = issue_token(settings, args.issue_token)
        except ValueError as err:
            print(f"imw serve-check: {err}", file=sys.stderr)
            return 2
        print(f"access token for {args.issue_token} (shown once; only its hash is stored):")
        print(token)
        return 0
    import uvicorn

    app = make_app(settings, Limits(max_files=args.max_files, max_bytes=args.max_mb * 1024**2))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        root_path=args.root_path,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="info",
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve-check",
        help="web page where clerks pre-check their files with a provider token; nothing stored",
    )
    p.add_argument("--home", help="warehouse home holding the tokens (default $IMW_HOME)")
    p.add_argument("--issue-token", metavar="AGS", help="issue (or replace) a provider's token")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--root-path", default="", help="path prefix behind a reverse proxy")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies whose X-Forwarded-* headers are trusted")  # fmt: skip
    p.add_argument("--max-files", type=int, default=20)
    p.add_argument("--max-mb", type=int, default=50, help="upload limit per request, MB")
    p.set_defaults(func=cmd_serve_check)
