"""`imw ui` and `imw daemon`: the Dagster webserver and daemon on the warehouse's instance.

Both refuse to start without a usable pseudonymisation key (exit 2): the daemon's schedule and
landing sensor would otherwise launch builds that can only fail, one after another, with the
reason buried in the run history. They prepare `DAGSTER_HOME` ($IMW_HOME/dagster unless set)
and then replace this process with Dagster's own command (`os.execve`), so a service manager
sees and signals Dagster directly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.settings import MissingKeyError, Settings, pseudonym_key

EXIT_USAGE = 2
DEFINITIONS = "orchestration.definitions"


def service_command(kind: str, host: str, port: int) -> list[str]:
    """The Dagster command line for `ui` (webserver + daemon in one process, `dagster dev`),
    `webserver` or `daemon`, from this Python's environment."""
    bin_dir = Path(sys.executable).parent
    if kind == "ui":
        return [str(bin_dir / "dagster"), "dev", "-m", DEFINITIONS, "-h", host, "-p", str(port)]
    if kind == "webserver":
        return [str(bin_dir / "dagster-webserver"), "-m", DEFINITIONS, "-h", host, "-p", str(port)]
    if kind == "daemon":
        return [str(bin_dir / "dagster-daemon"), "run", "-m", DEFINITIONS]
    raise ValueError(kind)


def check_key() -> str | None:
    """Why the services cannot start, or None when the key is usable."""
    try:
        pseudonym_key()
    except MissingKeyError as err:
        return str(err)
    return None


def cmd_service(args: argparse.Namespace) -> int:
    problem = check_key()
    if problem is not None:
        print(f"imw {args.command}: not started. {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.from_env(home=args.home)
    env = {
        **os.environ,
        **settings.env(),
        "DAGSTER_HOME": str(settings.ensure_dagster_home()),
    }
    command = service_command(args.command, args.host, args.port)
    print(f"IMW_HOME={settings.home}\nDAGSTER_HOME={env['DAGSTER_HOME']}\n$ {' '.join(command)}")
    sys.stdout.flush()
    os.execve(command[0], command, env)
    return 0  # not reached


def add_parsers(sub: argparse._SubParsersAction) -> None:
    for kind, text in (
        ("ui", "Dagster webserver + daemon in one process (what `make ui` runs)"),
        ("webserver", "the Dagster webserver alone (as a service)"),
        ("daemon", "the Dagster daemon alone: schedules and sensors (as a service)"),
    ):
        p = sub.add_parser(kind, help=f"{text}; refuses to start without IMW_PSEUDONYM_KEY")
        p.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
        if kind != "daemon":
            p.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
            p.add_argument("--port", type=int, default=3000)
        else:
            p.set_defaults(host="", port=0)
        p.set_defaults(func=cmd_service)
