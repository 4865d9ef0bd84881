"""The layout of ``resnet_core`` and the direction of its imports, checked on the source.

- Shared modules at the top (models, checkpoints, provenance, i18n, ...), ``training/`` and ``data/`` never import an
  experiment package, nor anything above them (serving, the library, the bench, the CLI, the registry).
- An experiment uses another only through its public surface (``from resnet_core.gradients import ...``), never
  its parts (``resnet_core.gradients.run``), and never the CLI, the registry, serving, the library or the bench.
- Nothing under ``resnet_core`` imports streamlit or the pages.
- Every experiment package has the same parts; no module sits at the top that is not a shared one.

Imports inside functions count too. Each rule is also run on a planted violation, so the checker cannot pass by
seeing nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from resnet_core import registry

ROOT = Path(__file__).resolve().parent.parent / "resnet_core"
EXPERIMENTS = {"gradients", "degradation", "ablation", "transfer", "architectures", "layers"}
FOUNDATIONS = {"training", "data"}
UPPER = {"serving", "library", "bench"}
SHARED = {
    "models",
    "checkpoints",
    "provenance",
    "i18n",
    "stats",
    "numbers",
    "validation",
    "macs",
    "figures",
    "experiment",
}
ENTRY = {"cli", "registry", "__main__", "__init__"}
PARTS = {"config", "run", "result", "report", "plots", "command"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Every module ``source`` imports (absolute names; ``from X import y`` counts X.y too, as y may be a module)."""
    found = set()
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return found


def layer(module: str) -> tuple[str, str]:
    """(kind, name) of a resnet_core module: ("experiment", "gradients"), ("shared", "models"), ..."""
    parts = module.split(".")
    if len(parts) == 1:
        return "root", ""
    top = parts[1]
    if top in EXPERIMENTS:
        return "experiment", top
    if top in FOUNDATIONS:
        return "foundation", top
    if top in UPPER:
        return "upper", top
    if top in SHARED:
        return "shared", top
    return "entry", top


def violations(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Broken rules in ``{module: (source, is_package)}``."""
    out = []
    for module, (source, is_package) in sources.items():
        kind, name = layer(module)
        for imported in sorted(imports_of(source, module, is_package)):
            root = imported.split(".")[0]
            if root in ("streamlit", "lab_pages", "app"):
                out.append(f"{module} imports {imported}: resnet_core never imports the app")
            if root != "resnet_core" or imported == "resnet_core":
                continue
            other_kind, other = layer(imported)
            if kind in ("shared", "foundation") and other_kind in ("experiment", "upper", "entry"):
                out.append(f"{module} imports {imported}: {kind} modules never import {other_kind} ones")
            if kind == "foundation" and other_kind == "foundation" and other != name and name == "data":
                out.append(f"{module} imports {imported}: data never imports training")
            if kind == "experiment" and other_kind in ("upper", "entry"):
                out.append(f"{module} imports {imported}: an experiment never imports {other}")
            deep = len(imported.split(".")) > 2
            if kind == "experiment" and other_kind == "experiment" and other != name and deep:
                public = ".".join(imported.split(".")[:2])
                if imported.rsplit(".", 1)[0] != public or _is_module(imported):
                    out.append(f"{module} imports {imported}: use {public}'s public surface, not its parts")
    return out


def _is_module(name: str) -> bool:
    parts = name.split(".")[1:]
    return (ROOT.joinpath(*parts).with_suffix(".py")).is_file() or ROOT.joinpath(*parts).is_dir()


def project_sources() -> dict[str, tuple[str, bool]]:
    return {module_name(p): (p.read_text(), p.name == "__init__.py") for p in sorted(ROOT.rglob("*.py"))}


def test_imports_point_one_way():
    assert violations(project_sources()) == []


@pytest.mark.parametrize(
    "module, planted",
    [
        ("resnet_core.training.engine", "from resnet_core.gradients import run_gradients"),
        ("resnet_core.data.datasets", "import resnet_core.transfer.config"),
        ("resnet_core.models", "from resnet_core.serving.jobs import Job"),
        ("resnet_core.checkpoints", "from resnet_core.ablation.result import AblationResult"),
        ("resnet_core.data.uploads", "from resnet_core.training import engine"),
        ("resnet_core.gradients.run", "from resnet_core.cli import main"),
        ("resnet_core.transfer.run", "from resnet_core.registry import get"),
        ("resnet_core.ablation.run", "from resnet_core.gradients.run import measure_gradients"),
        ("resnet_core.ablation.run", "from resnet_core.gradients import run"),
        ("resnet_core.architectures.designs", "from resnet_core.transfer.models import build_model"),
        ("resnet_core.serving.jobs", "import streamlit as st"),
        ("resnet_core.layers.run", "def f():\n    from lab_pages.ui import remember\n"),
    ],
)
def test_a_planted_forbidden_import_is_caught(module, planted):
    sources = project_sources()
    source, is_package = sources[module]
    sources[module] = (source + "\n" + planted + "\n", is_package)
    assert violations(sources), f"{planted!r} in {module} went unnoticed"


def test_the_public_surface_of_another_experiment_is_allowed():
    sources = {"resnet_core.ablation.run": ("from resnet_core.gradients import GradientConfig\n", False)}
    assert violations(sources) == []


def test_only_shared_modules_sit_at_the_top():
    top = {p.stem for p in ROOT.glob("*.py")}
    assert top <= SHARED | ENTRY, f"modules at the top of resnet_core that belong in a package: {top - SHARED - ENTRY}"
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages - SHARED == EXPERIMENTS | FOUNDATIONS | UPPER  # a shared part may be a package (figures)


def test_every_experiment_package_has_the_same_parts_and_is_registered():
    assert set(registry.kinds()) == EXPERIMENTS
    for kind in EXPERIMENTS:
        parts = {p.stem for p in (ROOT / kind).glob("*.py")}
        assert PARTS <= parts, f"{kind} lacks {PARTS - parts}"
        experiment = registry.get(kind)
        assert experiment.kind == kind
        config = experiment.config_type()
        assert experiment.config_type.from_dict(config.to_dict()) == config  # JSON round trip
