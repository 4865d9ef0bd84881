"""One shape for every experiment: what the CLI, the results library, the pages' jobs and any executor know of it.

Each experiment package (``gradients/``, ``degradation/``, ``ablation/``, ``transfer/``, ``architectures/``,
``layers/``) holds the same parts -- ``config`` (a dataclass that round-trips through JSON), ``run``, ``result``,
``report`` (verdicts and words), ``plots`` (pure functions returning plotly figures) and ``command`` (its CLI
subcommands) -- and declares one :class:`Experiment` as ``EXPERIMENT`` in its ``__init__``.
:mod:`resnet_core.registry` maps kind -> package; adding an experiment is one package and one registry line.

A run is data, ``(kind, config)``, so that any executor can run it and any cache can name it:

- ``experiment.run(config, *, device, on_progress, should_stop, on_partial, **inputs) -> Result``: the whole
  experiment, reporting :class:`~resnet_core.training.engine.ProgressEvent` s, stopping within one step when
  ``should_stop()`` turns True, publishing partial results. ``inputs`` are in-memory objects a page may hand over
  (an uploaded image set, a pair of nets it trained): they are named in the config by their content hash.
- :meth:`Experiment.config_hash`: sha256 of the canonical JSON of the kind, the full configuration (defaults
  filled in), the experiment's code version and the sha256 of every shipped checkpoint it reads. Bump
  ``code_version`` when a change to the code changes its numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from resnet_core.training.engine import ProgressFn, StopFn

if TYPE_CHECKING:
    import torch

PartialFn = Callable[[Any], None]  # gets the result so far (a partial result: status "running")


class Config(Protocol):
    def to_dict(self) -> dict: ...

    @classmethod
    def from_dict(cls, d: dict) -> Config: ...


class Result(Protocol):
    status: str

    def to_dict(self) -> dict: ...

    @classmethod
    def from_dict(cls, d: dict) -> Result: ...


class RunFn(Protocol):
    def __call__(
        self,
        config: Any,
        *,
        device: torch.device | str = ...,
        on_progress: ProgressFn | None = ...,
        should_stop: StopFn | None = ...,
        on_partial: PartialFn | None = ...,
    ) -> Any: ...


def canonical_hash(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_sha256(name: str) -> str:
    """The manifest's sha256 of a shipped checkpoint (or of a checkpoint file given by path); 'absent' if none."""
    from resnet_core.checkpoints import read_manifest
    from resnet_core.provenance import sha256_file

    entry = read_manifest().get("checkpoints", {}).get(name)
    if entry is not None:
        return str(entry.get("sha256", "unknown"))
    path = Path(name)
    return sha256_file(path) if path.is_file() else "absent"


def _no_checkpoints(config: dict) -> list[str]:
    return []


def _to_dict(result: Any) -> dict:
    return result.to_dict()


@dataclass(frozen=True)
class Experiment:
    kind: str
    title: str  # for people (an N_() message: translate at display)
    config_type: type
    result_type: type
    run: RunFn
    register: Callable[[Any], None]  # adds the experiment's subcommands to the CLI's subparsers
    headline: Callable[..., str] | None = None  # what a result shows, in words (from its report)
    merge: Callable[[dict, list[Any]], Any] | None = None  # (config, per-seed results) -> one result; None: one run
    checkpoints: Callable[[dict], list[str]] = _no_checkpoints  # shipped checkpoints a config reads
    payload: Callable[[Any], dict] = _to_dict  # a result as the JSON the CLI's --json writes
    progress: Callable[[Any], str] | None = None  # where a run is, in words, from one of its progress events
    code_version: int = 1
    # Config fields added after results were shipped, with the behaviour the code had before them: a result file
    # without the field is normalised to the old value, not today's default (its config hash stays the same).
    legacy: Mapping[str, Any] = field(default_factory=dict)

    @property
    def merges_seeds(self) -> bool:
        return self.merge is not None

    def config(self, config: Any) -> Any:
        """The config object from a dict (missing fields: today's defaults) or as given."""
        return config if isinstance(config, self.config_type) else self.config_type.from_dict(dict(config))

    def normalize(self, config: Any, *, legacy: bool = True) -> dict:
        """The configuration as the experiment writes it in its result (defaults filled, JSON types). With
        ``legacy``, a field the dict predates takes the value the code had before the field existed."""
        if not isinstance(config, self.config_type):
            config = self.config_type.from_dict({**(self.legacy if legacy else {}), **dict(config)})
        return json.loads(json.dumps(config.to_dict()))

    def config_hash(self, config: Any, *, legacy: bool = True, extra: Mapping[str, Any] | None = None) -> str:
        """The content address of a run of ``config``: kind, full configuration, code version and the sha256 of
        the checkpoints it reads (``extra``: more that the result depends on, e.g. an upload's content hash)."""
        full = self.normalize(config, legacy=legacy)
        checkpoints = {name: checkpoint_sha256(name) for name in self.checkpoints(full)}
        payload = {"kind": self.kind, "config": full, "code_version": self.code_version, "checkpoints": checkpoints}
        if extra:
            payload["inputs"] = dict(extra)
        return canonical_hash(payload)

    def result(self, payload: dict) -> Any:
        return self.result_type.from_dict(payload)

    def merge_payloads(self, config: dict, parts: list[dict]) -> dict:
        """One payload from the payloads of per-seed runs of ``config`` (see ``merge``)."""
        if self.merge is None:
            raise ValueError(f"{self.kind} results are one run each; there is nothing to merge")
        return self.payload(self.merge(dict(config), [self.result(p) for p in parts]))


def merged_status(parts: list[dict]) -> str:
    """The status of a result merged from per-seed parts: the worst of theirs."""
    statuses = {p.get("status", "done") for p in parts}
    for bad in ("cancelled", "running", "diverged"):
        if bad in statuses:
            return bad
    return "done"
