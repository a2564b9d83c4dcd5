"""Settings from flags, then environment variables, then a settings file, then defaults: one layer for
every command (``deploy`` with its ``deploy.yaml``, ``exporter`` and ``simulate`` with env twins).

An ``Option`` names its flag, its env var and its settings-file key once; ``add_arguments`` puts the
flags on a parser (raw text, so a flag and its env twin are parsed and reported alike) and
``resolve`` picks each value by precedence, parses it, and says where it came from. A bad value is an
``OptionError`` naming its source: ``flag --rate: '0' must be above 0``,
``env TRADEWATCH_RETRIES: '-1' must be 0 or more``, ``deploy.yaml: retries: 'many' is not a whole number``.

Example::

    RATE = Option("rate", "--rate", "TRADEWATCH_RATE", (), "events per second", positive_float, "200")
    values = resolve((RATE,), vars(args), os.environ).values   # {"rate": 200.0}
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class OptionError(ValueError):
    """A setting that does not parse; the message starts with where it was set."""


# --- parsers: text -> value, ValueError with a message that reads after the source's name ---------

def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean (true/false)")


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise ValueError(f"{text!r} must be above 0")
    return value


def non_negative_float(text: str) -> float:
    value = number(text)
    if value < 0:
        raise ValueError(f"{text!r} must be 0 or more")
    return value


def integer(text: str) -> int:
    if not text.strip().lstrip("-").isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def count(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise ValueError(f"{text!r} must be 0 or more")
    return value


def name(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


# --- the layer ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One setting: its flag, env var and settings-file key, and how to parse it.

    A ``str`` default is parsed like any text (so help shows what a user would type); any other
    default is the value itself.
    """

    name: str
    flag: str
    env: str | None
    key: tuple[str, ...]
    help: str
    parse: Callable[[str], Any] = str
    default: Any = None
    boolean: bool = False
    metavar: str = ""
    negatable: bool = True  # a boolean flag also has --no-<flag> (to override env or file)


@dataclass(frozen=True)
class Resolved:
    values: dict[str, Any]
    sources: tuple[tuple[str, str], ...] = field(default=())  # (setting, flag / env var / file key)


def add_arguments(parser: argparse.ArgumentParser, options: Sequence[Option], *, show_default: bool = False) -> None:
    """The flags of ``options``, each defaulting to None so an unset flag falls through to env, file, default."""
    for opt in options:
        notes = [f"env {opt.env}"] if opt.env else []
        if show_default and opt.default is not None:
            notes.append(f"default {opt.default}")
        text = opt.help + (f" [{'; '.join(notes)}]" if notes else "")
        if opt.boolean:
            action = argparse.BooleanOptionalAction if opt.negatable else "store_true"
            parser.add_argument(opt.flag, dest=opt.name, action=action, default=None, help=text)
            continue
        choices = getattr(opt.parse, "choices", None)
        metavar = opt.metavar or ("{" + ",".join(choices) + "}" if choices else opt.name.split("_")[-1].upper())
        parser.add_argument(opt.flag, dest=opt.name, default=None, metavar=metavar, help=text)


def resolve(
    options: Sequence[Option],
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    from_file: Mapping[str, Any] | None = None,
    file_label: str = "",
) -> Resolved:
    """Flags beat env vars, which beat the settings file, which beats the defaults."""
    values: dict[str, Any] = {}
    sources: list[tuple[str, str]] = []
    file_values = from_file or {}
    for opt in options:
        raw: Any = None
        where = "default"
        if flags.get(opt.name) is not None:
            raw, where = flags[opt.name], f"flag {opt.flag}"
        elif opt.env and environ.get(opt.env, "") != "":
            raw, where = environ[opt.env], f"env {opt.env}"
        elif file_values.get(opt.name) is not None:
            raw, where = file_values[opt.name], f"{file_label}: {'.'.join(opt.key)}"
        if raw is None:
            if isinstance(opt.default, str):
                raw, where = opt.default, f"the default of {opt.flag}"
            else:
                values[opt.name] = opt.default
                continue
        try:
            values[opt.name] = _parse(opt, raw)
        except ValueError as exc:
            raise OptionError(f"{where}: {exc}") from None
        if where != f"the default of {opt.flag}":
            sources.append((opt.name, where))
    return Resolved(values, tuple(sources))


def _parse(opt: Option, raw: Any) -> Any:
    if isinstance(raw, bool):
        if opt.boolean:
            return raw
    elif isinstance(raw, str):
        return boolean(raw) if opt.boolean else opt.parse(raw)
    elif isinstance(raw, int | float) and opt.parse is not str:
        return opt.parse(str(raw))
    raise ValueError(f"{raw!r} is not a valid {opt.name.replace('_', ' ')}")
