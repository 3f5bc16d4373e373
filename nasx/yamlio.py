"""The one YAML reader of nasx: safe, bounded, and with one-line errors.

Every YAML file nasx reads (space files, spec files) goes through :func:`load_yaml`, which builds
on ``yaml.SafeLoader`` and bounds what a small hostile file can cost: a size limit, no aliases (a
390-byte "billion laughs" file expands to gigabytes), a nesting and a node limit (deep nesting
overflows the recursive composer), and finite numbers only. Bad encodings (not UTF-8, a NUL byte)
are refused; a UTF-8 byte-order mark is skipped. Errors are :class:`nasx.errors.YamlLimitError`
with a short message; callers turn it into their own NasxError naming the file.
"""

from __future__ import annotations

import errno
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

from nasx.errors import YamlLimitError, clip, printable, shorten

MAX_BYTES = 1 << 20  # 1 MiB: a space or spec file is a few KiB
MAX_DEPTH = 32  # nesting of mappings and lists (a space needs 4)
MAX_NODES = 10_000  # scalars, lists and mappings in one file (a space has about 100)

# Re-exported: readers of user files import these helpers and the error from here too.
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlLimitError", "clip", "decode_text",
           "printable", "load_yaml", "read_text", "shorten"]


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that nasx refuses (an alias, too deep, too many nodes, not finite)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and counts depth and nodes while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _Refused(None, None, "YAML aliases (*name) are not allowed; write the"
                                " value out", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(None, None, f"more than {MAX_NODES} YAML nodes",
                                self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:  # type: ignore[override]
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Refused(
                None, None, f"numbers must be finite, got {shorten(node.value)}", node.start_mark
            )
        return value


_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


def decode_text(data: bytes) -> str:
    """UTF-8 text of ``data`` (a leading BOM dropped); YamlLimitError for other bytes or NUL."""
    if len(data) > MAX_BYTES:
        raise YamlLimitError(f"file is larger than {MAX_BYTES // 1024} KiB ({len(data)} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlLimitError(f"not UTF-8 text (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise YamlLimitError(f"holds a NUL byte (character {text.index(chr(0))})")
    return text


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a YAML file, size-checked before it is read whole.

    Only a regular file is read: a FIFO would block forever and a device never ends, so both are
    refused (an OSError whose strerror names what it is) before a byte is read; the file is
    opened non-blocking to look. FileNotFoundError, IsADirectoryError and other OSErrors pass
    through for the caller to word.
    """
    path = Path(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        if not stat.S_ISREG(mode):
            what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise OSError(errno.EINVAL, f"{what}, not a regular file", str(path))
        os.set_blocking(fd, True)
        data = fh.read(MAX_BYTES + 1)
    return decode_text(data)


def load_yaml(text: str) -> Any:
    """Parse YAML ``text`` with the bounded safe loader; YamlLimitError (one line) otherwise."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"file is larger than {MAX_BYTES // 1024} KiB")
    if "\x00" in text:
        raise YamlLimitError("holds a NUL character")
    loader = None
    try:
        loader = _Loader(text.removeprefix("\ufeff"))  # its reader refuses control characters
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        ch = exc.character
        shown = f"U+{ch:04X}" if isinstance(ch, int) else shorten(ch)
        raise YamlLimitError(f"holds a character YAML does not allow ({shown} at character "
                             f"{exc.position})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        if isinstance(exc, _Refused):
            raise YamlLimitError(f"{problem}{where}") from None
        raise YamlLimitError(f"malformed YAML{where}: {clip(str(problem))}") from None
    except (ValueError, OverflowError, RecursionError) as exc:
        # e.g. an integer literal beyond Python's digit limit
        raise YamlLimitError(f"malformed YAML: {clip(str(exc))}") from None
    finally:
        if loader is not None:
            loader.dispose()
