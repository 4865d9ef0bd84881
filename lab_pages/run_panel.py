"""Runs on the pages: asking for a result, watching it compute, and the queue a class shares.

A page turns its widgets into an experiment's config and calls :func:`request_run` (or, for work that is not an
experiment, :func:`launch` with a function). The server's :class:`~resnet_core.serving.runs.RunService` answers:
a stored result appears at once ("computed 3 min ago on this server with the same settings"), a run of the same
settings already computing is shared (this session becomes one more viewer), else a new run starts.
:func:`attach_existing` does the same without a button, so a tab that reconnects after a server restart, or a
student who opens the page the teacher just ran, sees the result. :func:`job_panel` draws it.

Viewers: the panel (a fragment polling every second while a run is active, every three while it waits in line)
and the sidebar's server-load line touch this session's runs; a closed tab stops touching, and Streamlit's own
session state says so at once (``alive``). Stop takes this viewer away; the run stops when no one watches.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
import torch

from lab_pages.ui import escape_markdown, profile, show_unexpected
from resnet_core.i18n import N_, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.serving.estimates import Estimate, Work, duration_text, observe, ready_estimate
from resnet_core.serving.jobs import Job, JobLimiter, JobState
from resnet_core.serving.runs import Handle, RunRequest, RunService, StoredView
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


def session_alive(viewer: str) -> bool:
    """Is this browser session still connected? (Streamlit's runtime knows at once when a tab closes.)"""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and bare scripts: heartbeats only
        return True
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


def _keep(key: str, view: Any, counted: bool = True) -> None:
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
    _keep(key, job, counted)
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
    handle = runs.request(request, session_id(), again=again)
    _keep(key, handle.view)
    st.session_state[f"{key}-handle"] = handle
    return handle


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
    if handle is not None:
        _keep(key, handle.view)
        st.session_state[f"{key}-handle"] = handle
    return handle


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


def format_wait(seconds: float | None) -> str:
    if seconds is None:
        return _("no estimate yet")
    if seconds < 90:
        return _("about {seconds:.0f} s").format(seconds=max(5, round(seconds / 5) * 5))
    return _("about {minutes:.0f} min").format(minutes=seconds / 60)


STATE_TEXT = {
    JobState.QUEUED: N_("Waiting for a free slot"),
    JobState.RUNNING: N_("Running"),
    JobState.DONE: N_("Finished"),
    JobState.CANCELLED: N_("Stopped — the results so far are kept"),
    JobState.DIVERGED: N_("Diverged"),
    JobState.FAILED: N_("Failed"),
    JobState.TIME_LIMIT: N_("Stopped: time limit"),
}


def running_progress(job: Any, event) -> tuple[float, str]:
    """One bar for the whole run, filled by the work done (steps), with the time left from the rate this run has
    shown so far (from the estimate until it has one); the current part in words; a loss only for training."""
    if event is None:
        return 0.0, _("{title}: starting…").format(title=job.title)
    done, total = event.step, max(1, event.total_steps)
    words = describe_progress(job, event)
    if getattr(job, "training", False) and math.isfinite(event.loss or math.nan):
        words += _(", loss {loss:.3f}").format(loss=event.loss)
    elapsed = job.elapsed
    est: Estimate | None = getattr(job, "estimate", None)
    if done > 0 and elapsed >= 2.0:
        left = elapsed * (total - done) / done
        remaining = _("≈ {time} left at this run's pace").format(time=duration_text(left)) if done < total else ""
    elif est is not None and est.total > 0:
        left = max(0.0, est.total - elapsed)
        remaining = _("≈ {time} left (estimated)").format(time=duration_text(left)) if left > 0 else ""
    else:
        remaining = ""
    text = _("{title} — {where} · {elapsed} elapsed").format(
        title=job.title, where=words, elapsed=duration_text(elapsed)
    )
    return min(1.0, done / total), f"{text}, {remaining}" if remaining else text


def describe_progress(job: Any, event) -> str:
    """Where the run is, in words (the experiment's own, when it has them)."""
    from resnet_core import registry

    kind = getattr(job, "kind", None)
    words = registry.get(kind).progress if kind in registry.kinds() else None
    if words is not None:
        return words(event)
    return _("step {step} of {total}").format(step=event.step, total=event.total_steps)


def show_estimate(work: Work, device: torch.device) -> Estimate | None:
    """The "≈ N s on this server" line before a Run button. While this server is being timed it says so, and
    redraws itself every second until the figure is there (no widget has to be touched). The run's own progress
    bar goes by its steps and pace, so a run started meanwhile needs no estimate."""
    est = ready_estimate(work, device)
    if est is not None:
        st.caption(est.text())
        return est

    @st.fragment(run_every=1.0)
    def timing() -> None:  # redraws only this line (a whole-page rerun could swallow a click on Run)
        ready = ready_estimate(work, device)
        st.caption(ready.text() if ready is not None else _("Timing this server for an estimate (a few seconds)…"))

    timing()
    return None


def _origin_note(key: str, job: Any) -> None:
    handle: Handle | None = st.session_state.get(f"{key}-handle")
    if handle is None or handle.view is not job:
        return
    if isinstance(job, StoredView):
        stored = handle.stored
        ago = duration_text(max(0.0, time.time() - stored.created))
        if stored.source == "shipped":
            st.success(_("This is the shipped result for exactly these settings and seed (no need to run it)."))
        else:
            st.success(
                _("Computed {ago} ago on this server with the same settings and seed (it took {took}).").format(
                    ago=ago, took=duration_text(stored.seconds)
                )
            )
        if st.button(
            _("Run it again"), key=f"again-{key}", help=_("Computes it anew; the new result replaces this one.")
        ):
            st.session_state[f"{key}-again"] = True
    elif handle.origin == "attached" and job.active:
        st.info(_("Someone on this server is already running exactly this: you are watching the same run."))
    elif handle.origin == "restarted" and job.active:
        marker = handle.interrupted or {}
        st.warning(
            _(
                "A run with these settings was interrupted when the server restarted (it had run for {time}); "
                "it has started again."
            ).format(time=duration_text(max(0.0, float(marker.get("updated", 0)) - float(marker.get("started", 0)))))
        )


def job_status(job: Any, key: str | None = None, *, controls: bool = True) -> None:
    """Progress bar, state line, Stop button (unless ``controls`` is False: a student watching a room's run) and
    any error of ``job`` (a live run or a stored result)."""
    viewer = session_id()
    job.touch(viewer)
    if key is not None:
        _origin_note(key, job)
    if job.state == JobState.QUEUED:
        pos = job.queue_position
        wait = job.estimated_wait
        st.info(
            _("Queued behind other runs on this server (place {pos} in line; estimated wait {wait}).").format(
                pos=pos, wait=format_wait(wait)
            )
            if pos
            else _("Starting…")
        )
    elif job.state == JobState.RUNNING:
        frac, text = running_progress(job, job.latest)
        st.progress(frac, text=text)
    elif job.state == JobState.DONE and not isinstance(job, StoredView):
        est: Estimate | None = getattr(job, "estimate", None)
        if est is not None and not getattr(job, "observed", False):
            job.observed = True
            observe(est, job.elapsed)  # later estimates of this kind learn from it
        planned = _(" (estimated {time})").format(time=duration_text(est.total)) if est is not None else ""
        st.success(
            _("{title}: finished in {elapsed}{planned}.").format(
                title=job.title, elapsed=duration_text(job.elapsed), planned=planned
            )
        )
    elif job.state == JobState.CANCELLED:
        reason = f" {job.error}" if job.error else ""
        st.warning(f"{job.title}: {_(STATE_TEXT[job.state])} ({job.elapsed:.1f}s).{reason}")
    elif job.state == JobState.TIME_LIMIT:
        st.warning(
            _(
                "{title}: {error}. The results so far are kept; choose fewer epochs, seeds or images to finish "
                "within the limit."
            ).format(title=job.title, error=job.error)
        )
    elif job.state == JobState.DIVERGED:
        st.error(f"{job.title}: {job.error}")
    elif job.state == JobState.FAILED:
        st.error(escape_markdown(_("{title} failed: {error}").format(title=job.title, error=job.error)))
        if job.error_detail:
            with st.expander(_("Details for a bug report")):
                st.code(job.error_detail)
    if job.active and controls:
        st.button(
            _("Stop"),
            key=f"stop-{job.id}",
            on_click=_stop_watching,
            args=(key, job, viewer),
            type="secondary",
            help=_(
                "Stops the run for you; it ends within one training step when no one else on the server watches "
                "it. What it has computed so far is kept."
            ),
        )


def _stop_watching(key: str | None, job: Any, viewer: str) -> None:
    left = job.detach(viewer)
    if left > 0 and key is not None:  # others still watch: this session lets go of it
        st.session_state.pop(key, None)
        st.session_state.pop(f"{key}-handle", None)
        st.toast(
            ngettext(
                "You stopped watching; the run goes on for {n} other viewer.",
                "You stopped watching; the run goes on for {n} other viewers.",
                left,
            ).format(n=left)
        )


def job_panel(key: str, render: Callable[[Any], None], *, every: float = 1.0) -> Any:
    """Draw the run under ``key``: status, then ``render(run)`` (live curves or results).

    While the run is active the panel is a fragment that redraws itself without rerunning the page (every
    ``every`` seconds; every three while it waits in line, which costs the server next to nothing), so other
    widgets stay usable; when it ends it triggers one full rerun to draw the final state."""
    if st.session_state.pop(f"{key}-again", False):
        handle: Handle | None = st.session_state.get(f"{key}-handle")
        st.session_state.pop(key, None)
        if handle is not None and handle.request is not None:
            new = run_service().request(handle.request, session_id(), again=True)
            _keep(key, new.view)
            st.session_state[f"{key}-handle"] = new
    job = st.session_state.get(key)
    if job is None:
        return None
    drawn_as = job.state
    period = (3.0 if drawn_as == JobState.QUEUED else every) if job.active else None

    @st.fragment(run_every=period)
    def panel() -> None:
        try:
            job_status(job, key)
            if job.state != JobState.QUEUED:
                render(job)
        except Exception as exc:  # a drawing bug must not become a traceback box
            show_unexpected(exc, N_("Drawing this run"))
        if not job.active and st.session_state.get(f"{key}-drawn-final") != job.id:
            st.session_state[f"{key}-drawn-final"] = job.id
            st.rerun()
        if job.active and drawn_as == JobState.QUEUED and job.state != JobState.QUEUED:
            st.rerun()  # it started: poll every second from now on

    panel()
    return job
