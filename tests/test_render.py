"""Generated YAML: the writer in generator/render.py writes exactly the bytes libyaml would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import generate, render
from generator.spec import load
from generator.units import Duration
from tests.conftest import SPECS, spec_id

ODD: list[Any] = [
    {"a": 1, "b": [1, 2, {"c": "x: y", "d": []}], "e": {}, "f": "multi\nline\n", "g": "multi\n\nno end",
     "h": [{"x": {"y": ["a", "yes", "No", "1e3", "0x1F", "~", "-x", "- x", "#c", "a #b", "a#b", "t:", "a:b", "",
                        " lead", "trail ", "é", "tab\there", "'q'", '"q"', "{x}", "[x]", "*a", "&a", "!t", "%p",
                        "@a", "`b", "|", ">", "?", "? x", ":", "=", "<<", "2026-01-01", ".inf", "null", "True",
                        1.5, 1e17, float("inf"), -0.0, None, True, False, 0, 10**20]}}]},
    {"k": "  indented\nblock\n", "l": [{"m": "x\n", "q": [{"r": "kept\n\n"}]}], "n": {"o": {"p": "a\nb"}}},
    [{"a": 1}, "x", {"b": {"c": Duration("5m")}}],
    {"x": [[1], []]},
    {"long": "word " * 2500},
    {"odd key": 1, "2": "two"},
]


@pytest.mark.parametrize("data", ODD, ids=range(len(ODD)))
def test_odd_values_come_out_as_libyaml_writes_them(data: Any) -> None:
    assert render.to_yaml(data, source="s") == render.header("s") + "\n" + render._libyaml(data)


def test_equal_values_of_another_type_or_sign_keep_their_own_text() -> None:
    # True == 1 and 0.0 == -0.0 in Python; whichever comes first must not decide the other's text.
    data = [1, True, 0.0, -0.0, 1.0, "1", Duration("1m"), "1m"]
    assert render.to_yaml(data, source="s").endswith("- 1\n- true\n- 0.0\n- -0.0\n- 1.0\n- '1'\n- 1m\n- 1m\n")
    assert render.to_yaml(list(reversed(data)), source="s") == render.header("s") + "\n" + render._libyaml(
        list(reversed(data)))


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_generated_yaml_file_is_what_libyaml_writes(path: Path) -> None:
    # Each file read back and written again both ways: the direct writer and libyaml agree, and
    # reproduce the file byte for byte.
    files = generate.render(load(path))
    checked = 0
    for name, text in files.items():
        if not name.endswith((".yml", ".yaml")):
            continue
        body = text.partition("\n")[2]
        data = yaml.load(body, Loader=yaml.CSafeLoader)
        assert render._libyaml(data) == body, name
        assert render.to_yaml(data, source="x").partition("\n")[2] == body, name
        checked += 1
    assert checked >= 5
