"""The mutation check (scripts/mutation_check.py) is run by hand, not in CI; these keep its list from rotting (every
snippet it edits is in its file exactly once, every test it names exists) and check its machinery on a throwaway
project: caught, survived and broken are told apart, and the mutated file is restored byte for byte."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mc():
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "scripts" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_check"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("mutation_check", None)


def test_every_snippet_is_in_its_file_exactly_once(mc):
    assert mc.check_list(mc.MUTATIONS) == []
    assert len(mc.MUTATIONS) >= 30


def test_every_listed_test_exists(mc):
    missing = []
    for m in mc.MUTATIONS:
        for node in m.tests:
            path, name = node.split("::")
            defined = {n.name for n in ast.walk(ast.parse((ROOT / path).read_text())) if isinstance(n, ast.FunctionDef)}
            if name.split("[")[0] not in defined:
                missing.append(f"{m.name}: {node}")
    assert not missing, missing


def test_the_four_survivors_of_the_audit_are_listed(mc):
    names = {m.name for m in mc.MUTATIONS}
    assert {
        "gradients-every-seed-to-any",
        "degradation-train-error-on-test-split",
        "ablation-recompute-not-fed",
        "engine-augmentation-never-applied",
    } <= names


@pytest.mark.slow
def test_caught_survived_and_broken_are_told_apart_and_the_file_is_restored(mc, tmp_path, monkeypatch):
    (tmp_path / "tests").mkdir()
    (tmp_path / "rule.py").write_text("def every(xs):\n    return all(xs)\n")
    (tmp_path / "tests" / "test_rule.py").write_text(
        "from rule import every\n\n\ndef test_every():\n    assert not every([True, False])\n"
    )
    monkeypatch.setattr(mc, "ROOT", tmp_path)
    before = (tmp_path / "rule.py").read_bytes(), (tmp_path / "rule.py").stat().st_mtime_ns

    def run(new: str) -> dict:
        return mc.run_one(mc.Mutation("m", "", "rule.py", "return all(xs)", new, ("tests/test_rule.py",)), timeout=60)

    caught = run("return any(xs)")
    assert caught["result"] == "caught" and caught["test"] == "tests/test_rule.py::test_every"
    assert run("return all(list(xs))")["result"] == "survived"
    assert run("return all(xs")["result"] == "broken"
    assert ((tmp_path / "rule.py").read_bytes(), (tmp_path / "rule.py").stat().st_mtime_ns) == before
