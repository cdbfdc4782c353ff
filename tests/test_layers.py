"""The direction of the arrows: cli -> services -> domain/store/render, and each layer
keeps to its job (read from the source, so a new import that breaks it fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "alliance_cli"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any level (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: p.name)
def test_domain_imports_nothing_of_ours_but_errors_and_itself(path: Path) -> None:
    ours = {m for m in imports_of(path) if m.startswith("alliance_cli")}
    allowed = ("alliance_cli.domain", "alliance_cli.errors")
    assert all(m.startswith(allowed) for m in ours), sorted(ours)


@pytest.mark.parametrize("path", modules("store"), ids=lambda p: p.name)
def test_the_store_never_talks_to_a_person(path: Path) -> None:
    """No prompt, no keyring, no Typer, no rendering: the CLI hands the store a key
    source (store/host.py) instead."""
    found = imports_of(path)
    forbidden = ("getpass", "keyring", "typer", "click", "rich")
    forbidden += ("alliance_cli.cli.", "alliance_cli.render", "alliance_cli.services")
    assert not {m for m in found if m.startswith(forbidden) or m == "alliance_cli.cli"}, path
    assert "input(" not in path.read_text()


@pytest.mark.parametrize("layer", ["domain", "store", "render", "services"])
def test_no_layer_below_the_cli_imports_it(layer: str) -> None:
    for path in modules(layer):
        found = imports_of(path)
        assert not {m for m in found if m.startswith("alliance_cli.cli.")}, path
        assert "alliance_cli.cli" not in found, path


def test_without_a_key_source_the_store_asks_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    from alliance_cli.store import cipher, host

    def no_prompt(prompt: str = "") -> str:
        raise AssertionError("the store prompted")

    monkeypatch.setattr(getpass, "getpass", no_prompt)
    monkeypatch.delenv(cipher.KEY_ENV, raising=False)
    monkeypatch.setattr(host, "_keys", host.NoKeySource())
    assert cipher.key_for(tmp_path / "x.db") is None
    assert cipher.new_key_for(tmp_path / "x.db") is None


@pytest.mark.parametrize("path", modules("cli"), ids=lambda p: p.name)
def test_the_cli_reaches_the_store_only_through_the_services(path: Path) -> None:
    """Except the host interface (store/host.py), which the CLI hands its key source
    and notice sink through."""
    found = {m for m in imports_of(path) if m.startswith("alliance_cli.store")}
    assert found <= {"alliance_cli.store", "alliance_cli.store.host"}, (path, found)
