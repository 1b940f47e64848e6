"""``patrol serve``: the operator console (FastAPI under uvicorn), on 127.0.0.1:8000 by default."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import sys
from pathlib import Path

from patrol.errors import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the operator console in the browser",
        description="Serve the operator console: plan, fly, broadcast and review in the "
        "browser, with its JSON API at /openapi.json. Sign in with an account made by "
        "'patrol users add NAME --role admin'.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 = any)")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")
    p.add_argument(
        "--connect",
        action="append",
        default=[],
        metavar="URL",
        help="a vehicle the console may launch patrols on (repeatable), as for patrol fly",
    )
    p.add_argument(
        "--speedup",
        type=float,
        default=None,
        metavar="K",
        help="the vehicles run K× real time (default 1; with --sim, its speed-up)",
    )
    sim = p.add_argument_group("built-in simulated copters")
    sim.add_argument("--sim", type=int, default=0, metavar="N", help="start N simulated copters")
    sim.add_argument(
        "--sim-speedup", type=float, default=5.0, metavar="K", help="their speed-up (default 5)"
    )
    sim.add_argument(
        "--sim-home", default=None, metavar="LAT,LON,ALT,HDG", help="their home (default: sample)"
    )
    sim.add_argument(
        "--camera",
        action="store_true",
        help="give the simulated copters cameras (patrol sim): patrols launched on them run "
        "detection, and their flags come to the review queue",
    )
    web = p.add_argument_group("web")
    web.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this cert")
    web.add_argument("--tls-key", type=Path, metavar="PEM", help="... and this private key")
    web.add_argument(
        "--behind-proxy",
        action="store_true",
        help="a TLS-terminating reverse proxy is in front (secure cookies, forwarded headers)",
    )
    web.add_argument(
        "--tiles",
        metavar="URL",
        help="map tile URL, e.g. https://tiles.example/{z}/{x}/{y}.png (default: plain base)",
    )
    web.add_argument("--tiles-attribution", default="", metavar="TEXT")
    p.set_defaults(func=run)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # listening before the URL is printed: a client that connects at once waits in the
    # backlog until the server takes it, rather than being refused
    sock.listen(2048)  # uvicorn's default backlog
    return sock


SAMPLE_HOME = Path(__file__).resolve().parents[2] / "data" / "sample" / "home.txt"


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from patrol.console.app import create_app
    from patrol.console.services import Console
    from patrol.console.settings import ConsoleSettings
    from patrol.console.simulated import SimError, SimProcess, camera_options
    from patrol.datadir import data_dir
    from patrol.link import LinkError, parse_endpoint

    if bool(args.tls_cert) != bool(args.tls_key):
        raise CommandError("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path is not None and not path.is_file():
            raise CommandError(f"{path}: no such file")
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port {args.port} is not a TCP port")
    if args.sim < 0 or args.sim > 20:
        raise CommandError("--sim takes 0 to 20 copters")
    for connect in args.connect:
        try:
            parse_endpoint(connect)
        except LinkError as exc:
            raise CommandError(str(exc)) from None
    speedup = args.speedup or (args.sim_speedup if args.sim else 1.0)
    if not speedup > 0 or not args.sim_speedup > 0:
        raise CommandError("the speed-up must be positive")
    if args.sim and args.speedup is not None and args.speedup != args.sim_speedup:
        raise CommandError("--speedup must match --sim-speedup when both are given")
    if not _loopback(args.host) and not args.tls_cert and not args.behind_proxy:
        print(
            f"patrol serve: warning: listening on {args.host} without TLS: passwords and "
            "session cookies cross the network in clear. Give --tls-cert/--tls-key, or "
            "--behind-proxy when a TLS proxy is in front.",
            file=sys.stderr,
        )
    root = data_dir()
    settings = ConsoleSettings(
        data_dir=root,
        db_url=args.db,
        tls=bool(args.tls_cert),
        behind_proxy=args.behind_proxy,
        tile_url=args.tiles,
        tile_attribution=args.tiles_attribution,
        connects=list(args.connect),
        speedup=speedup,
    )
    if not settings.vendor_dir.is_dir():
        print(
            f"patrol serve: warning: {settings.vendor_dir} is missing: the maps need the "
            "front-end libraries (run scripts/setup.sh, which runs npm ci)",
            file=sys.stderr,
        )
    console = Console(settings)
    if not console.accounts.users():
        print(
            "patrol serve: no users yet: add the first with: patrol users add NAME --role admin",
            file=sys.stderr,
        )
    sim = None
    if args.sim:
        home = args.sim_home or SAMPLE_HOME.read_text().strip() + ",200,0"
        extra = camera_options(args.sim_speedup) if args.camera else ()
        sim = SimProcess(args.sim, root, args.sim_speedup, home, extra)
        try:
            vehicles = sim.start()
        except SimError as exc:
            raise CommandError(str(exc)) from None
        console.add_simulated(vehicles)
        for v in vehicles:
            print(f"simulated copter {v.sysid}: {v.connect} (companion port {v.serial1})")
    app = create_app(settings, console)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        if sim is not None:
            sim.stop()
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    config = uvicorn.Config(
        app,
        ssl_certfile=str(args.tls_cert) if args.tls_cert else None,
        ssl_keyfile=str(args.tls_key) if args.tls_key else None,
        proxy_headers=args.behind_proxy,
        forwarded_allow_ips="127.0.0.1" if args.behind_proxy else None,
        log_level="warning",
        # the pages poll every few seconds: keep their connections open between polls
        timeout_keep_alive=30,
    )
    scheme = "https" if args.tls_cert else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"console on {scheme}://{host}:{sock.getsockname()[1]}/", flush=True)
    # uvicorn shuts down on SIGINT/SIGTERM, then raises the signal again: let that end here,
    # so that the simulator is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if sim is not None:
            sim.stop()
    return 0
