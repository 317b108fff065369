"""The renderer table: built-in renderers by dotted path, users' renderers first."""

from __future__ import annotations

from typing import Any

import pytest

from zenml_widgets import rendering
from zenml_widgets.display import views as display_views


def test_every_built_in_renderer_resolves_to_its_display_function() -> None:
    for kind, path in rendering.BUILTIN_RENDERERS.items():
        module = path.partition(":")[0]
        assert module.startswith("zenml_widgets.display."), (kind, path)
        assert callable(rendering.load(path)), (kind, path)
    assert rendering.get("run") is display_views.run_bundle
    assert rendering.get("no such kind") is None


def test_a_registered_renderer_wins_over_the_built_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "_renderers", {})
    monkeypatch.setattr(rendering, "_loaded", False)

    def mine(obj: Any) -> dict[str, Any]:
        return {"text/plain": "mine"}

    rendering.register("run", mine)  # before anything was displayed
    assert rendering.get("run") is mine
    assert rendering.mimebundle(object(), "run") == {"text/plain": "mine"}
    assert rendering.get("step") is display_views.step_bundle


def test_a_failing_renderer_shows_the_repr_and_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "_renderers", {})

    def broken(obj: Any) -> dict[str, Any]:
        raise RuntimeError("no <luck>")

    rendering.register("thing", broken)
    bundle = rendering.mimebundle("<x>", "thing")
    assert "rich display failed: RuntimeError: no <luck>" in bundle["text/plain"]
    assert "&lt;luck&gt;" in bundle["text/html"] and "<luck>" not in bundle["text/html"]
