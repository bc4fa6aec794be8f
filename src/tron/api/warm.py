"""Fill the API's caches in the background after start-up, so the first `tronview`, the
first jobs list and the first timeline do not each pay for every job (seconds at 10,000).

One job at a time, yielding to the loop between them: the scheduler and other requests run
meanwhile, and a request that comes first fills what it needs itself.
"""

from __future__ import annotations

import asyncio
from functools import partial

from starlette.applications import Starlette

from tron.api.cache import JobJsonCache, RecentCache
from tron.api.context import view_for
from tron.api.routes.glance import DEFAULT_RECENT, job_recent
from tron.api.routes.jobs import job_json
from tron.api.run_index import RunIndex
from tron.api.shapes import JobIncludes
from tron.api.trigger_graph import TriggerGraphs
from tron.engine.daemon import Daemon

# What the clients ask `/api/jobs` for: tronview and tronctl (nothing extra), the web UI's
# jobs list (node pools), and the defaults (Tron's CLIs and scripts).
CLIENT_INCLUDES = (
    JobIncludes(action_graph=False, node_pool=False),
    JobIncludes(action_graph=False),
    JobIncludes(),
)


async def warm_caches(app: Starlette) -> int:
    """Render each job's JSON for `CLIENT_INCLUDES` and its `/api/recent` entry (the web
    UI's jobs list asks for both), and index its runs; returns how many jobs were done (jobs
    configured meanwhile wait for their first request)."""
    daemon: Daemon = app.state.daemon
    cache: JobJsonCache = app.state.job_cache
    index: RunIndex = app.state.run_index
    recent: RecentCache = app.state.recent_cache
    graphs: TriggerGraphs = app.state.trigger_graphs
    config, jobs = daemon.config, dict(daemon.jobs())
    cache.follow_config(config, set(jobs))
    recent.follow_config(config)
    view = view_for(daemon)  # as a request's: one for every job (only lasting parts are kept)
    done = 0
    for name, job in sorted(jobs.items()):
        if daemon.config is not config:
            break  # a new config: the requests after it fill the cache
        if daemon.jobs().get(name) is not job:
            continue  # reconfigured meanwhile
        for include in CLIENT_INCLUDES:
            render = partial(job_json, daemon, graphs, job, include)
            cache.get(name, include, job.version, render)
        recent.get(
            name, DEFAULT_RECENT, job.version, partial(job_recent, job, DEFAULT_RECENT, view)
        )
        index.of(name, job)
        done += 1
        await asyncio.sleep(0)
    return done
