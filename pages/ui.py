"""Streamlit helpers shared by the pages: the sidebar's choices, the process-wide job limiter, job panels.

Pages stay thin: they build a config from widgets, call :func:`launch` with a function of ``resnet_core`` and
draw the job with :func:`job_panel`. Everything here is UI; the work itself never runs in the script thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import streamlit as st
import torch

from resnet_core.devices import pick_device
from resnet_core.jobs import Job, JobLimiter, JobState

DEVICE_KEY = "device_choice"
SEED_KEY = "seed_choice"


@st.cache_resource
def job_limiter() -> JobLimiter:
    """One limiter per server process: every browser session's jobs queue here (RESNET_LAB_MAX_JOBS, default 1)."""
    return JobLimiter(int(os.environ.get("RESNET_LAB_MAX_JOBS", "1")))


def current_device() -> torch.device:
    return pick_device(st.session_state.get(DEVICE_KEY))


def current_seed() -> int:
    return int(st.session_state.get(SEED_KEY, 0))


def launch(key: str, fn: Callable[[Job], Any], *, title: str) -> Job | None:
    """Start ``fn`` as a job stored under ``key`` in this session, unless one is already running there."""
    existing: Job | None = st.session_state.get(key)
    if existing is not None and existing.active:
        st.warning("A run is already in progress here: stop it first, or wait for it to finish.")
        return None
    job = Job(fn, title=title, limiter=job_limiter()).start()
    st.session_state[key] = job
    return job


STATE_TEXT = {
    JobState.QUEUED: "Waiting for a free slot",
    JobState.RUNNING: "Running",
    JobState.DONE: "Finished",
    JobState.CANCELLED: "Stopped — the results so far are kept",
    JobState.DIVERGED: "Diverged",
    JobState.FAILED: "Failed",
}


def job_status(job: Job) -> None:
    """Progress bar, state line, Stop button and any error of ``job``."""
    event = job.latest
    if job.state == JobState.QUEUED:
        pos = job.queue_position
        st.info(f"Queued behind other runs on this server (place {pos} in line)." if pos else "Starting…")
    elif job.state == JobState.RUNNING:
        frac = event.step / max(1, event.total_steps) if event else 0.0
        text = (f"{job.title}: step {event.step}/{event.total_steps}, loss {event.loss:.3f}, "
                f"{job.elapsed:.0f}s" if event else f"{job.title}: starting…")  # fmt: skip
        st.progress(min(1.0, frac), text=text)
    elif job.state == JobState.DONE:
        st.success(f"{job.title}: finished in {job.elapsed:.1f}s.")
    elif job.state == JobState.CANCELLED:
        st.warning(f"{job.title}: {STATE_TEXT[job.state]} ({job.elapsed:.1f}s).")
    elif job.state == JobState.DIVERGED:
        st.error(f"{job.title}: {job.error}")
    elif job.state == JobState.FAILED:
        st.error(f"{job.title} failed: {job.error}")
        if job.error_detail:
            with st.expander("Details for a bug report"):
                st.code(job.error_detail)
    if job.active:
        st.button("Stop", key=f"stop-{job.id}", on_click=job.stop, type="secondary",
                  help="Ends the run within one training step; what it has computed so far is kept.")  # fmt: skip


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
        job_status(job)
        render(job)
        if not job.active and st.session_state.get(f"{key}-drawn-final") != job.id:
            st.session_state[f"{key}-drawn-final"] = job.id
            st.rerun()

    panel()
    return job


def download_buttons(payload: dict, *, name: str, csv_rows: list[dict] | None = None) -> None:
    """JSON (and CSV, when rows are given) downloads of a result."""
    cols = st.columns(2)
    cols[0].download_button("Download JSON", json.dumps(payload, indent=1, default=str), file_name=f"{name}.json",
                            mime="application/json", key=f"dl-json-{name}")  # fmt: skip
    if csv_rows:
        import pandas as pd

        cols[1].download_button("Download CSV", pd.DataFrame(csv_rows).to_csv(index=False), file_name=f"{name}.csv",
                                mime="text/csv", key=f"dl-csv-{name}")  # fmt: skip
