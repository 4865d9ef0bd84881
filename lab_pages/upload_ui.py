"""The upload panel: a zip of class folders decoded as a bounded background job (see resnet_core.data.uploads)."""

from __future__ import annotations

import streamlit as st

from lab_pages.runs import launch, session_jobs, upload_limiter
from lab_pages.ui import escape_markdown, profile
from resnet_core.i18n import gettext as _
from resnet_core.serving.jobs import Job, JobState


def decode_upload(container, file, *, size: int = 32, key: str = "upload"):
    """Decode an uploaded zip as a bounded, cancellable job (own pool of 2, the profile's pixel/time/size budget,
    owned by this session) keyed by a hash of its content. Draws its state in ``container``; returns the
    ``(ImageSet, UploadReport)`` once decoded, else None. Errors are messages, never traceback boxes."""
    from resnet_core.data.uploads import UploadError, content_key, load_image_zip

    limits = profile().upload_limits()
    if file.size > limits.max_upload_bytes:
        container.error(
            _("This upload cannot be used: it is larger than {mb:.0f} MB, the limit on this server.").format(
                mb=limits.max_upload_bytes / 2**20
            )
        )
        return None
    blob = file.getvalue()
    ck = content_key(blob, size)
    job_key = f"{key}-job-{ck[:24]}"
    for other_key, other in list(session_jobs().items()):  # a newer upload replaces an older one (and its images)
        if other_key.startswith(f"upload:{key}-job-") and other_key != f"upload:{job_key}":
            other.stop()
            session_jobs().pop(other_key, None)
            st.session_state.pop(other_key.removeprefix("upload:"), None)
    job: Job | None = st.session_state.get(job_key)
    if job is None:

        def work(j: Job):
            return load_image_zip(blob, size=size, limits=limits, should_stop=j.should_stop)

        job = launch(
            job_key,
            work,
            title=_("Decoding the upload"),
            limiter=upload_limiter(),
            time_limit=limits.max_seconds + 10,
            counted=False,
        )
        if job is None:
            return None
        job.wait(3.0)  # most uploads decode in well under a second: show them without a polling round

    def draw(j: Job) -> bool:
        """Draw the state; True when finished."""
        j.touch()
        if j.state == JobState.DONE:
            images, report = j.result
            container.success(
                _("{images} images in {classes} classes, decoded in {seconds:.1f}s. Modes: {modes}.").format(
                    images=len(images),
                    classes=len(report.classes),
                    seconds=report.seconds,
                    modes=", ".join(f"{m} ×{n}" for m, n in sorted(report.modes.items())),
                )
            )
            container.dataframe(
                [{_("class (folder name)"): c, _("images"): n} for c, n in zip(report.classes, report.counts)],
                hide_index=True,
            )
            if report.ignored:
                container.caption(
                    _("Ignored {n} junk/README files (e.g. __MACOSX, .DS_Store).").format(n=len(report.ignored))
                )
        elif j.state == JobState.FAILED and isinstance(j.exception, UploadError):
            container.error(_("This upload cannot be used: ") + escape_markdown(str(j.exception)))
        elif j.state == JobState.FAILED:
            container.error(
                escape_markdown(_("Decoding this upload failed unexpectedly: {error}").format(error=j.error))
            )
            with container.expander(_("Details for a bug report")):
                st.code(j.error_detail or "")
        elif j.state in (JobState.CANCELLED, JobState.TIME_LIMIT):
            container.warning(
                _("Decoding this upload was stopped ({why}). Upload it again, or a smaller one.").format(
                    why=j.error or _("cancelled")
                )
            )
        else:
            pos = j.queue_position
            container.info(
                _("Decoding the upload… ({elapsed:.0f}s)").format(elapsed=j.elapsed)
                if not pos
                else _("Waiting to decode the upload (place {pos} in line)…").format(pos=pos)
            )
            return False
        return True

    if job.active:

        @st.fragment(run_every=0.5)
        def poll() -> None:
            if draw(job):
                st.rerun()

        with container:
            poll()
        return None
    draw(job)
    return job.result if job.state == JobState.DONE else None
