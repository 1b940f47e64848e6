"""The services one console server holds: the store's engine and the tables on it (accounts,
patrols, grids and plans, the message library, flags), the login limiter, and the live side
(vehicles over the control channel, supervised workers)."""

from __future__ import annotations

from sqlalchemy import Engine

from audio.library import MessageLibrary
from patrol.console.agents import SimAgents
from patrol.console.fleet import Fleet
from patrol.console.security import LoginLimiter
from patrol.console.settings import ConsoleSettings
from patrol.console.site import Site
from patrol.console.workers import Workers
from patrol.store import DEFAULT_DB_NAME, open_engine
from patrol.store.accounts import Accounts
from patrol.store.claims import ClaimStore
from patrol.store.patrols import PatrolStore
from patrol.store.planning import PlanningStore
from patrol.store.site import SiteStore
from vision.flags import FlagStore


def engine_for(settings: ConsoleSettings) -> Engine:
    # a connection per worker thread of the server's pool (anyio's 40), not SQLAlchemy's 15
    url = settings.db_url or f"sqlite:///{settings.data_dir / DEFAULT_DB_NAME}"
    return open_engine(url, pool_size=20, max_overflow=30)


class Console:
    def __init__(self, settings: ConsoleSettings, engine: Engine | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or engine_for(settings)
        self.accounts = Accounts(self.engine)
        self.site = Site(settings, SiteStore(self.engine))
        self.limiter = LoginLimiter(settings.login_failures, settings.login_window.total_seconds())
        self.patrols = PatrolStore(self.engine)
        self.planning = PlanningStore(self.engine)
        self.library = MessageLibrary(settings.data_dir / "audio", self.engine)
        self.flags = FlagStore(self.engine, settings.data_dir / "vision")
        self.simulated: list = []
        self.claims = ClaimStore(self.engine)
        self.fleet = Fleet(self.claims)
        self.workers = Workers(self.engine, settings)
        self.agents = SimAgents(settings.data_dir, settings.speedup)

    def add_simulated(self, vehicles: list) -> None:
        """Copters ``patrol serve --sim`` started: the console may launch on them."""
        self.simulated = list(vehicles)
        self.agents.start_session(self.simulated)
        self.settings.connects.extend(v.connect for v in vehicles)

    def simulated_at(self, connect: str):  # type: ignore[no-untyped-def]
        """The simulated copter behind ``connect``, if it is one of ours."""
        return next((v for v in self.simulated if v.connect == connect), None)

    def start(self) -> None:
        """Called when the server starts serving."""
        self.accounts.purge_expired()
        self.workers.start()
        self.fleet.start()

    def stop(self) -> None:
        """Called when the server stops. Workers (the aircraft's controllers) keep running."""
        self.fleet.stop()
        self.agents.stop()
        self.engine.dispose()
