"""Runs on the pages, asked for: a page turns its widgets into an experiment's config and calls
:func:`request_run` (or, for work that is not an experiment, :func:`launch` with a function). The server's
:class:`~resnet_core.serving.runs.RunService` answers: a stored result appears at once ("computed 3 min ago on this
server with the same settings"), a run of the same settings already computing is shared (this session becomes one
more viewer), else a new run starts. :func:`attach_existing` does the same without a button, so a tab that
reconnects after a server restart, or a student who opens the page the teacher just ran, sees the result.
``lab_pages.run_panel`` draws it.

Viewers: the panel and the sidebar's server-load line touch this session's runs; a closed tab stops touching, and
Streamlit's own session state says so at once (``alive``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from lab_pages.ui import profile
from resnet_core.i18n import gettext as _
from resnet_core.serving.estimates import Estimate
from resnet_core.serving.jobs import Job
from resnet_core.serving.limiter import JobLimiter
from resnet_core.serving.runs import Handle, RunRequest, RunService
from resnet_core.serving.store import ResultStore

SESSION_JOBS = "_resnet_lab_jobs"  # this session's runs: page key -> Job (or a stored result's view)
MAX_SESSION_JOBS = 2


@st.cache_resource
def job_limiter() -> JobLimiter:
    """One queue per server process (RESNET_LAB_MAX_JOBS runs at once, default 1) for every session's runs."""
    return JobLimiter(int(os.environ.get("RESNET_LAB_MAX_JOBS", "1")))


@st.cache_resource
def upload_limiter() -> JobLimiter:
    """Uploads decode in a bounded pool of their own (2 at once per server), apart from the training queue."""
    return JobLimiter(2)


def session_alive(viewer: str) -> bool | None:
    """Is this browser session still connected? Streamlit's runtime knows at once when a tab closes, and a tab in
    the background stays connected however seldom it polls. None where there is no runtime to ask (AppTest)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and bare scripts: heartbeats only
        return None
    return Runtime.instance().is_active_session(viewer)


@st.cache_resource
def run_service() -> RunService:
    """The server's one RunService: its result store (RESNET_LAB_RESULTS_DIR) and executor (RESNET_LAB_EXECUTOR:
    ``local``, the default, or ``ray``)."""
    from resnet_core.serving.executors import make_executor

    prof = profile()
    executor = make_executor(
        os.environ.get("RESNET_LAB_EXECUTOR", "local"),
        limiter=job_limiter(),
        viewer_timeout=prof.session_timeout,
        alive=session_alive,
        time_limit=prof.max_job_seconds,
    )
    return RunService(ResultStore(), executor)


_SERVICE_ERROR: dict[str, Any] = {}  # the last failure to start the run service, and when (retried after a minute)


def service() -> RunService | None:
    """The run service, or None after saying why it cannot start (e.g. RESNET_LAB_EXECUTOR=ray and the cluster
    unreachable): a message on the page, never a traceback, and no new attempt for a minute."""
    from resnet_core.validation import one_line

    failed = _SERVICE_ERROR.get("at")
    if failed is not None and time.monotonic() - failed < 60:
        st.error(_SERVICE_ERROR["message"])
        return None
    try:
        return run_service()
    except Exception as exc:  # an executor that cannot start: Ray missing, unreachable, refused
        _SERVICE_ERROR.update(
            at=time.monotonic(), message=_("Runs cannot start on this server: {error}").format(error=one_line(exc))
        )
        st.error(_SERVICE_ERROR["message"])
        return None


def server_load_counts() -> tuple[int, int]:
    """(runs computing, runs waiting) on this server (with Ray: on the cluster, as its executor counts them)."""
    limiter = job_limiter()
    runs = service()
    if runs is None:
        return limiter.running, limiter.waiting
    executor = runs.executor
    if getattr(executor, "limiter", None) is limiter:
        return limiter.running, limiter.waiting
    return limiter.running + executor.running, limiter.waiting + executor.waiting


def session_jobs() -> dict[str, Any]:
    return st.session_state.setdefault(SESSION_JOBS, {})


def session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


def _busy(key: str, counted: bool) -> bool:
    """Warn and return True when this page already runs something, or the session has its two runs going."""
    existing = st.session_state.get(key)
    if existing is not None and existing.active:
        st.warning(_("A run is already in progress here: stop it first, or wait for it to finish."))
        return True
    active = [j for k, j in session_jobs().items() if j.active and not k.startswith("upload:")]
    if counted and len(active) >= MAX_SESSION_JOBS:
        st.warning(
            _(
                "You already have {n} runs going ({titles}). Stop one, or wait for one to finish, before starting "
                "another: the server is shared."
            ).format(n=len(active), titles=", ".join(j.title for j in active))
        )
        return True
    return False


def keep_view(key: str, view: Any, counted: bool = True) -> None:
    """This session keeps ``view`` (a run or a stored result's view) under the page's ``key``; ``counted`` ones count
    toward the per-session limit, uploads' checks do not."""
    st.session_state[key] = view
    session_jobs()[key if counted else f"upload:{key}"] = view


def launch(
    key: str,
    fn: Callable[[Job], Any],
    *,
    title: str,
    limiter: JobLimiter | None = None,
    time_limit: float | None = None,
    counted: bool = True,
    estimate: Estimate | None = None,
    training: bool = False,
) -> Job | None:
    """Start ``fn`` as a job of this session only (work that is not an experiment's run: training the Home page's
    net, decoding an upload), unless this page or session is busy. It stops when the session goes away."""
    if _busy(key, counted):
        return None
    prof = profile()
    job = Job(  # the job (fn, its progress and its own messages) speaks the language of this session
        fn,
        title=title,
        limiter=limiter or job_limiter(),
        heartbeat_timeout=prof.session_timeout,
        time_limit=time_limit if time_limit is not None else prof.max_job_seconds,
        owner=session_id(),
        alive=session_alive,
        estimate=estimate,
        training=training,
    ).start()
    keep_view(key, job, counted)
    return job


def _request(kind: str, config: Any, title: str, estimate, training, inputs, input_keys) -> RunRequest:
    from lab_pages.ui import current_device

    return RunRequest(
        kind,
        config,
        str(current_device()),
        title=title,
        inputs=dict(inputs or {}),
        input_keys=dict(input_keys or {}),
        estimate=estimate,
        training=training,
    )


def handle_key(key: str) -> str:
    """Where this session keeps the :class:`Handle` of the run under the page's ``key``."""
    return f"{key}-handle"


def keep_handle(key: str, handle: Handle) -> Handle:
    """This session keeps ``handle`` (how its run came about: stored, shared or new) and its view under ``key``."""
    keep_view(key, handle.view)
    st.session_state[handle_key(key)] = handle
    return handle


def request_run(
    key: str,
    kind: str,
    config: Any,
    *,
    title: str,
    estimate: Estimate | None = None,
    training: bool = False,
    inputs: dict | None = None,
    input_keys: dict | None = None,
    again: bool = False,
) -> Handle | None:
    """Ask for one run of the experiment ``kind`` (:mod:`resnet_core.registry`) with ``config`` on this session's
    device: stored, shared or new (see the module docstring). ``inputs`` are in-memory objects (an upload) named
    in ``input_keys`` by their content hash. None when this page or session is busy."""
    if _busy(key, True):
        return None
    runs = service()
    if runs is None:
        return None
    request = _request(kind, config, title, estimate, training, inputs, input_keys)
    return keep_handle(key, runs.request(request, session_id(), again=again))


def attach_existing(
    key: str,
    kind: str,
    config: Any,
    *,
    title: str,
    estimate: Estimate | None = None,
    training: bool = False,
    inputs: dict | None = None,
    input_keys: dict | None = None,
) -> Handle | None:
    """When this page has no run yet: show what already exists for these settings (a stored result, a run to
    watch, or a run a server restart interrupted, started again), without starting anything else."""
    if st.session_state.get(key) is not None or config is None:
        return None
    try:
        request = _request(kind, config, title, estimate, training, inputs, input_keys)
    except (ValueError, TypeError):  # settings the experiment refuses: the Run button will say why
        return None
    runs = service()
    if runs is None:
        return None
    handle = runs.lookup(request, session_id())
    return keep_handle(key, handle) if handle is not None else None


def result_so_far(job: Any) -> Any:
    """The run's result when it has finished, else its latest partial result (a copy), else None."""
    return job.result if job.result is not None else job.snapshot()[2]


def keep_session_jobs_alive() -> int:
    """Heartbeat for every active run this session watches (the sidebar calls it on every page)."""
    viewer = session_id()
    active = [j for j in session_jobs().values() if j.active]
    for job in active:
        job.touch(viewer)
    return len(active)
