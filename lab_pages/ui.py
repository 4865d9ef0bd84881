"""Streamlit helpers shared by the pages: the sidebar's choices, the process-wide job limiter, job panels.

Pages stay thin: they build an experiment's config from widgets, call :func:`launch_run` with its kind (or
:func:`launch` with a function of ``resnet_core`` for work that is not an experiment) and draw the job with
:func:`job_panel`. Everything here is UI; the work itself never runs in the script thread.

Jobs belong to the browser session that launched them: the job panel (a fragment polling every second) and the
sidebar's server-load line (every few seconds, on any page) call ``job.touch()``; when a tab is closed the
touching stops and the job cancels itself after ``RESNET_LAB_SESSION_TIMEOUT`` seconds (default 30), freeing
its slot. At most one active job per page and two per session.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.serving.estimates import Estimate, Work, duration_text, observe, ready_estimate, time_left
from resnet_core.serving.jobs import Job, JobLimiter, JobState, experiment_job
from resnet_core.serving.profile import Profile, current_profile
from resnet_core.training.devices import pick_device

DEVICE_KEY = "device"
SEED_KEY = "seed"
SESSION_JOBS = "_resnet_lab_jobs"  # this session's jobs: page key -> Job
MAX_SESSION_JOBS = 2


def remember(key: str) -> dict[str, str]:
    """Keyword arguments for a setting's widget: it keeps its value across page switches and lives in the URL
    (``?key=value``), so a copied link reopens the experiment with the same settings. Values in a link that a
    widget does not accept (out of range, not an option) are ignored by Streamlit and dropped from the URL."""
    return {"key": key, "bind": "query-params", "persist_state": "session"}


@st.cache_resource
def job_limiter() -> JobLimiter:
    """One limiter per server process: every browser session's jobs queue here (RESNET_LAB_MAX_JOBS, default 1)."""
    return JobLimiter(int(os.environ.get("RESNET_LAB_MAX_JOBS", "1")))


@st.cache_resource
def upload_limiter() -> JobLimiter:
    """Uploads decode in a bounded pool of their own (2 at once per server), apart from the training queue."""
    return JobLimiter(2)


@st.cache_resource
def profile() -> Profile:
    """local or hosted (RESNET_LAB_PROFILE): the caps every page's widgets use."""
    return current_profile()


_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|:$<>~&])")


def escape_markdown(text: str) -> str:
    """Text from users (class names, file names in messages) shown literally by st.markdown/st.error/...:
    no links, no :color[...] directives, no $LaTeX$, no HTML."""
    return _MD_SPECIALS.sub(r"\\\1", str(text))


def escape_html(text: str) -> str:
    """For plotly labels, which interpret a few HTML tags."""
    return html.escape(str(text))


def show_unexpected(exc: BaseException, what: str = N_("This page")) -> None:
    """An unexpected error as a short message with the details folded away, never a traceback box."""
    st.error(
        escape_markdown(
            _("{what} ran into an unexpected problem: {error}").format(
                what=_(what), error=f"{type(exc).__name__}: {exc}"
            )
        )
    )
    with st.expander(_("Details for a bug report")):
        st.code("".join(traceback.format_exception(exc)))


def require_data(key: str = "bundled") -> None:
    """Stop the page with a clear message when a dataset it needs is missing (no exception box)."""
    from resnet_core.data.datasets import DATASETS

    source = DATASETS[key]
    if not source.available():
        st.error(
            _("{title} is missing on this server, and this page needs it.").format(title=_(source.title))
            + " "
            + _(source.how_to_get)
        )
        st.stop()


@st.cache_data(max_entries=32)
def _read_json(path: str, mtime: float) -> dict | None:  # mtime in the key: a rewritten file is read again
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def read_result(path: Path | str) -> dict | None:
    """A shipped result, by file path or by library entry name (``"gradients_batch"``, resolved through
    ``assets/results/library.json``), parsed once per version of the file per server; None when absent or
    unreadable."""
    if isinstance(path, str) and not path.endswith(".json"):
        from resnet_core.library.store import resolve

        path = resolve(path)
    path = Path(path)
    return _read_json(str(path), path.stat().st_mtime) if path.exists() else None


def column_labels(keys, config: dict | None = None) -> dict:
    """``column_config`` showing each column under its translated name; the data keys (CSV/JSON) stay English."""
    out = {}
    for key in keys:
        column = dict((config or {}).get(key) or {})
        if not column.get("label"):
            column["label"] = _(key)
        out[key] = column
    return out


def current_device() -> torch.device:
    return pick_device(st.session_state.get(DEVICE_KEY))


def current_seed() -> int:
    return int(st.session_state.get(SEED_KEY, 0))


def session_jobs() -> dict[str, Job]:
    return st.session_state.setdefault(SESSION_JOBS, {})


def _session_id() -> str | None:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return ctx.session_id if ctx else None
    except Exception:  # noqa: BLE001 - bookkeeping only
        return None


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
    """Start ``fn`` as a job stored under ``key`` in this session, unless one is already running there or the
    session already has MAX_SESSION_JOBS running. The job cancels itself when the session goes away."""
    existing: Job | None = st.session_state.get(key)
    if existing is not None and existing.active:
        st.warning(_("A run is already in progress here: stop it first, or wait for it to finish."))
        return None
    active = [j for k, j in session_jobs().items() if j.active and not k.startswith("upload:")]
    if counted and len(active) >= MAX_SESSION_JOBS:
        st.warning(
            _(
                "You already have {n} runs going ({titles}). Stop one, or wait for one to finish, before starting "
                "another: the server is shared."
            ).format(n=len(active), titles=", ".join(j.title for j in active))
        )
        return None
    prof = profile()
    job = Job(  # the job (fn, its progress and its own messages) speaks the language of this session
        fn,
        title=title,
        limiter=limiter or job_limiter(),
        heartbeat_timeout=prof.session_timeout,
        time_limit=time_limit if time_limit is not None else prof.max_job_seconds,
        owner=_session_id(),
    ).start()
    job.estimate, job.training, job.observed = estimate, training, False
    st.session_state[key] = job
    session_jobs()[key if counted else f"upload:{key}"] = job
    return job


def launch_run(
    key: str,
    kind: str,
    config: Any,
    *,
    title: str,
    estimate: Estimate | None = None,
    training: bool = False,
    inputs: dict | None = None,
) -> Job | None:
    """Start one run of the experiment ``kind`` (:mod:`resnet_core.registry`) with ``config`` on this session's
    device, as a job stored under ``key`` (see :func:`launch`)."""
    work = experiment_job(kind, config, device=current_device(), inputs=inputs)
    return launch(key, work, title=title, estimate=estimate, training=training)


def result_so_far(job: Job) -> Any:
    """The job's result when it has finished, else its latest partial result (a copy), else None."""
    return job.result if job.result is not None else job.snapshot()[2]


def keep_session_jobs_alive() -> int:
    """Heartbeat for every active job of this session (called by the sidebar on every page); returns how many."""
    active = [j for j in session_jobs().values() if j.active]
    for job in active:
        job.touch()
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


def running_progress(job: Job, event) -> tuple[float, str]:
    """One overall bar for the whole job: by its estimate when it has one (time left), else by its steps; the
    current sub-run in words; a loss only for training jobs."""
    est: Estimate | None = getattr(job, "estimate", None)
    if event is None:
        return 0.0, _("{title}: starting…").format(title=job.title)
    where = _("{tag}: {step} of {total}") if event.tag else _("{step} of {total}")
    where = where.format(tag=event.tag, step=event.step, total=event.total_steps)
    if getattr(job, "training", False) and math.isfinite(event.loss or math.nan):
        where += _(", loss {loss:.3f}").format(loss=event.loss)
    elapsed = job.elapsed
    if est is not None and est.total > 0:
        left = time_left(est, elapsed)
        remaining = (
            _("≈ {time} left").format(time=duration_text(left)) if left > 0 else _("taking longer than estimated")
        )
        text = _("{title} — {where} · {elapsed} elapsed, {remaining}")
        return min(0.99, elapsed / est.total), text.format(
            title=job.title, where=where, elapsed=duration_text(elapsed), remaining=remaining
        )
    text = _("{title} — {where} · {elapsed} elapsed").format(
        title=job.title, where=where, elapsed=duration_text(elapsed)
    )
    return min(1.0, event.step / max(1, event.total_steps)), text


def show_estimate(work: Work, device: torch.device) -> Estimate | None:
    """The "≈ N s on this server" line before a Run button (or "timing this server…" while it calibrates)."""
    est = ready_estimate(work, device)
    st.caption(est.text() if est is not None else _("Timing this server for an estimate (a few seconds)…"))
    return est


def job_status(job: Job) -> None:
    """Progress bar, state line, Stop button and any error of ``job``."""
    job.touch()
    event = job.latest
    if job.state == JobState.QUEUED:
        pos = job.queue_position
        limiter = job._limiter
        wait = limiter.estimated_wait(pos) if (pos and limiter) else None
        st.info(
            _("Queued behind other runs on this server (place {pos} in line; estimated wait {wait}).").format(
                pos=pos, wait=format_wait(wait)
            )
            if pos
            else _("Starting…")
        )
    elif job.state == JobState.RUNNING:
        frac, text = running_progress(job, event)
        st.progress(frac, text=text)
    elif job.state == JobState.DONE:
        est: Estimate | None = getattr(job, "estimate", None)
        if est is not None and not getattr(job, "observed", True):
            job.observed = True
            observe(est, job.elapsed)  # later estimates of this kind learn from it
        planned = _(" (estimated {time})").format(time=duration_text(est.total)) if est is not None else ""
        st.success(
            _("{title}: finished in {elapsed}{planned}.").format(
                title=job.title, elapsed=duration_text(job.elapsed), planned=planned
            )
        )
    elif job.state == JobState.CANCELLED:
        st.warning(f"{job.title}: {_(STATE_TEXT[job.state])} ({job.elapsed:.1f}s).")
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
        st.error(_("{title} failed: {error}").format(title=job.title, error=job.error))
        if job.error_detail:
            with st.expander(_("Details for a bug report")):
                st.code(job.error_detail)
    if job.active:
        st.button(
            _("Stop"),
            key=f"stop-{job.id}",
            on_click=job.stop,
            type="secondary",
            help=_("Ends the run within one training step; what it has computed so far is kept."),
        )


def job_panel(key: str, render: Callable[[Job], None], *, every: float = 1.0) -> Job | None:
    """Draw the job under ``key``: status, then ``render(job)`` (live curves or results).

    While the job runs, the panel is a fragment that redraws itself every ``every`` seconds without rerunning the
    page, so other widgets stay usable; when the job ends it triggers one full rerun to draw the final state.
    """
    job: Job | None = st.session_state.get(key)
    if job is None:
        return None

    @st.fragment(run_every=every if job.active else None)
    def panel() -> None:
        try:
            job_status(job)
            render(job)
        except Exception as exc:  # noqa: BLE001 - a drawing bug must not become a traceback box
            show_unexpected(exc, N_("Drawing this run"))
        if not job.active and st.session_state.get(f"{key}-drawn-final") != job.id:
            st.session_state[f"{key}-drawn-final"] = job.id
            st.rerun()

    panel()
    return job


def made_by(provenance: dict | None, details: str = "") -> str:
    """The provenance line under a shipped result: the command that made it, where, when and at which git revision,
    then ``details`` (budget, time) if given; "" without provenance."""
    prov = provenance or {}
    if not prov:
        return ""
    line = _("Made by `{command}` on {device}, {date}, git {revision}.").format(
        command=prov.get("command", "?"),
        device=prov.get("device", "?"),
        date=prov.get("date", "?"),
        revision=str(prov.get("git_revision", "?"))[:12],
    )
    return f"{line} {details}" if details else line


def download_buttons(payload: dict, *, name: str, csv_rows: list[dict] | None = None) -> None:
    """JSON (and CSV, when rows are given) downloads of a result."""
    cols = st.columns(2)
    cols[0].download_button(
        _("Download JSON"),
        json.dumps(payload, indent=1, default=str),
        file_name=f"{name}.json",
        mime="application/json",
        key=f"dl-json-{name}",
    )
    if csv_rows:
        import pandas as pd

        cols[1].download_button(
            _("Download CSV"),
            pd.DataFrame(csv_rows).to_csv(index=False),
            file_name=f"{name}.csv",
            mime="text/csv",
            key=f"dl-csv-{name}",
        )
