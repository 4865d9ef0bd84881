"""A run on the page: its panel (a fragment polling every second while a run is active, every three while it waits
in line), its progress in steps and words, where a result came from, its estimate, and Stop, which takes this
viewer away (the run stops when no one watches). Runs are asked for in ``lab_pages.runs``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
import torch

from lab_pages.runs import handle_key, keep_handle, run_service, session_id
from lab_pages.ui import escape_markdown, show_unexpected
from resnet_core.i18n import N_, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.serving.estimates import Estimate, Work, duration_text, observe, ready_estimate
from resnet_core.serving.jobs import JobState
from resnet_core.serving.runs import Handle, StoredView


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
    handle: Handle | None = st.session_state.get(handle_key(key))
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
        if not pos:
            st.info(_("Starting…"))
        elif wait is None:
            st.info(
                _("Queued behind other runs on this server (place {pos} in line; the wait is not known yet).").format(
                    pos=pos
                )
            )
        else:
            st.info(
                _("Queued behind other runs on this server (place {pos} in line; estimated wait {wait}).").format(
                    pos=pos, wait=format_wait(wait)
                )
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
        st.session_state.pop(handle_key(key), None)
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
        handle: Handle | None = st.session_state.get(handle_key(key))
        st.session_state.pop(key, None)
        if handle is not None and handle.request is not None:
            keep_handle(key, run_service().request(handle.request, session_id(), again=True))
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
