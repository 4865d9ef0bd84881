"""Guards for the promises the lab makes around its runs: a job whose browser session went away stops (running or
queued) while a polled one goes on; uploads are refused past their pixel budget, counted over all images; a
shipped checkpoint whose bytes changed is refused, also after it was verified once; a library result is named
by a hash of its configuration, code version and checkpoints, and ``--resume`` skips exactly the runs whose
hash matches."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from types import SimpleNamespace

import pytest

import resnet_core.checkpoints as ck
from resnet_core import registry
from resnet_core.data.uploads import UploadError, UploadLimits, load_image_zip
from resnet_core.library.build import plan
from resnet_core.library.entries import catalog
from resnet_core.library.store import Library
from resnet_core.serving import jobs
from resnet_core.serving.jobs import Job, JobState
from tests.test_uploads import good_entries, make_zip

# ---------------------------------------------------------------------------------------------- orphaned jobs


class _Clock:
    """jobs.py's monotonic clock, moved by hand (the rest of ``time`` is the real one). It starts at the real
    clock's reading and moves by seconds, so a job of another test still running sees no jump that matters."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(jobs, "time", fake)
    return fake


def test_a_running_job_stops_when_its_session_stops_polling(clock):
    job = Job(lambda j: None, heartbeat_timeout=30)
    job.state, job.started = JobState.RUNNING, time.time()  # as the worker thread sets them
    job.touch()
    clock.now += 29
    assert not job.should_stop(), "polled 29 s ago: still wanted"
    job.touch()
    clock.now += 29
    assert not job.should_stop(), "each poll renews it"
    clock.now += 2
    assert job.should_stop() and job.stop_reason == "session-ended"


def test_a_queued_job_of_a_closed_session_never_starts(clock):
    ran = []
    job = Job(ran.append, heartbeat_timeout=30)
    clock.now += 31
    assert job.start().wait(30)
    assert job.state == JobState.CANCELLED and ran == [] and "no one is watching it any more" in job.error


def test_a_job_without_heartbeat_runs_to_the_end(clock):
    job = Job(lambda j: SimpleNamespace(status="done"))  # the CLI and tests: no session to lose
    clock.now += 10**6
    assert not job.should_stop()
    assert job.start().wait(30) and job.state == JobState.DONE


# ---------------------------------------------------------------------------------------------- pixel budgets


def test_the_pixel_budget_counts_every_image_of_an_upload():
    """Eight 12x10 images are 960 pixels: a budget of 1,000 takes them, 900 refuses them although each one fits."""
    blob = make_zip(good_entries())
    images, upload = load_image_zip(blob, limits=UploadLimits(max_total_pixels=1000))
    assert len(images) == 8 and upload.decoded_pixels == 960
    with pytest.raises(UploadError, match="pixels"):
        load_image_zip(blob, limits=UploadLimits(max_total_pixels=900))
    with pytest.raises(UploadError, match="pixels"):
        load_image_zip(blob, limits=UploadLimits(max_pixels=119))  # one 12x10 image is 120


# ---------------------------------------------------------------------------------------------- checkpoints


def test_a_checkpoint_changed_after_its_first_verification_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    path = folder / "resnet20.pt"
    shutil.copy(ck.CHECKPOINT_DIR / "resnet20.pt", path)
    shutil.copy(ck.MANIFEST_PATH, folder / "manifest.json")
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", folder)
    monkeypatch.setattr(ck, "MANIFEST_PATH", folder / "manifest.json")
    monkeypatch.setattr(ck, "_VERIFIED", set())
    ck.load_checkpoint(path)  # verified once: later loads of this file version are not hashed again
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # as a later write would leave it
    with pytest.raises(ck.CheckpointError, match="resnet20.pt does not match the sha256"):
        ck.load_checkpoint(path)


# ---------------------------------------------------------------------------------------------- the library


def test_the_config_hash_follows_configuration_code_version_and_checkpoints(monkeypatch):
    experiment = registry.get("ablation")
    config = {"depth": 20, "test_size": 50}
    first = experiment.config_hash(config)
    assert experiment.config_hash(dict(config)) == first
    assert experiment.config_hash({**config, "test_size": 60}) != first
    assert dataclasses.replace(experiment, code_version=experiment.code_version + 1).config_hash(config) != first
    monkeypatch.setattr("resnet_core.experiment.checkpoint_sha256", lambda name: "retrained")
    assert experiment.config_hash(config) != first


def test_resume_skips_exactly_the_runs_whose_hash_matches(tmp_path):
    smoke = catalog("smoke")
    whole, seeded_entry = smoke["smoke_ablation"], smoke["smoke_gradients"]
    library = Library(tmp_path)
    library.record_entry(whole, {"status": "done"}, executor="local")
    seed0, seed1 = seeded_entry.runs()
    library.record_part(seed0, {"status": "done"}, executor="local")
    library.record_part(seed1, {"status": "done"}, executor="local")
    library.index["parts"][seed1.label]["config_hash"] = "made-by-an-older-configuration"
    library.save()
    todo, made = plan([whole, seeded_entry], Library(tmp_path), resume=True)
    assert made.skipped_entries == ["smoke_ablation"] and made.skipped_runs == [seed0.label]
    assert [r.label for r in todo] == [seed1.label]

    library.index["entries"]["smoke_ablation"]["config_hash"] = "made-by-an-older-configuration"
    library.save()
    todo, made = plan([whole], Library(tmp_path), resume=True)
    assert made.skipped_entries == [] and [r.label for r in todo] == [whole.name]
    todo, _ = plan([whole, seeded_entry], Library(tmp_path), resume=False)
    assert len(todo) == 3, "without --resume everything runs"
