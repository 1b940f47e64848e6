"""One router per resource, as FastAPI's "bigger applications" layout: each holds the JSON API
under ``/api/<resource>`` and the resource's pages."""

from patrol.console.routers import (
    flags,
    grids,
    messages,
    patrols,
    plans,
    session,
    site,
    staff,
    users,
    vehicles,
)

ROUTERS = [
    session.router,
    users.router,
    site.router,
    grids.router,
    plans.router,
    patrols.router,
    vehicles.router,
    messages.router,
    flags.router,
    staff.router,
]
