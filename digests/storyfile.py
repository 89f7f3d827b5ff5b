"""Reading a story file safely: a hostile or broken file costs bounded time and memory.

Two guards, both before any real work is done:

- `read_story_text` refuses anything but a regular file (a symlink to ``/dev/zero``, a named
  pipe, a device) and a file larger than the size limit, checked *before* reading; it never
  reads more than the limit plus one byte, even if the file grows meanwhile.
- `check_node_budget` measures the YAML node graph *with aliases expanded* (an alias bomb is a
  few hundred bytes that expand to billions of nodes) and refuses a graph larger than the node
  budget, deeper than the depth limit, or one that contains itself. It visits each node once,
  so the check itself is linear in the size of the file.

Every refusal is a `StoryError` with one line saying what is wrong.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from digests.errors import StoryError, StoryIssue

DEFAULT_STORY_MAX_BYTES = 4 * 1024 * 1024
"""Far above any real story (the shipped one is about 50 kB)."""

MAX_STORY_NODES = 200_000
"""YAML nodes after alias expansion (the shipped story has about 2,200)."""

MAX_STORY_DEPTH = 64
"""Nesting levels (a story needs about 8)."""


def _refuse(path: Path, message: str) -> StoryError:
    return StoryError([StoryIssue(str(path), "", message)])


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _too_big(path: Path, size: int | None, max_bytes: int) -> StoryError:
    what = f"is {size} bytes" if size is not None else "is larger than the limit"
    return _refuse(
        path,
        f"file {what}, over the story size limit of {max_bytes} bytes "
        "(setting story_max_bytes, DEPECHE_STORY_MAX_BYTES)",
    )


def read_story_text(path: Path, *, max_bytes: int = DEFAULT_STORY_MAX_BYTES) -> str:
    """The text of a story file, or `StoryError` (one line) if it is not a readable regular
    UTF-8 file of at most ``max_bytes`` bytes."""
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is seen as a device
    except FileNotFoundError:
        raise _refuse(path, "file not found") from None
    except OSError as error:
        raise _refuse(path, f"cannot read file: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, f"not a regular file ({_kind(info.st_mode)}): cannot be a story")
    if info.st_size > max_bytes:
        raise _too_big(path, info.st_size, max_bytes)
    try:
        # O_NONBLOCK: if the path was swapped for a pipe since the stat, open does not hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise _refuse(path, f"cannot read file: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, f"not a regular file ({_kind(info.st_mode)}): cannot be a story")
        try:
            data = file.read(max_bytes + 1)
        except OSError as error:
            raise _refuse(path, f"cannot read file: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise _too_big(path, None, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _refuse(path, f"not UTF-8 text (byte {error.start})") from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_node_budget(
    root: yaml.Node,
    file: str,
    *,
    max_nodes: int = MAX_STORY_NODES,
    max_depth: int = MAX_STORY_DEPTH,
) -> int:
    """The number of nodes of ``root`` with every alias expanded; `StoryError` if it is over
    ``max_nodes``, nested deeper than ``max_depth`` or recursive (an anchor inside itself).

    Each distinct node is visited once (an alias is the same node object seen again), and
    sizes are capped at ``max_nodes + 1``, so a bomb of 10^30 nodes costs as little to measure
    as its text."""
    cap = max_nodes + 1
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    # Iterative depth-first walk: (node, depth, finished-children?)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, cap)
            in_progress.discard(key)
            continue
        if key in sizes:
            continue
        if depth > max_depth:
            raise StoryError(
                [
                    StoryIssue(
                        file,
                        "",
                        f"nested more than {max_depth} levels deep",
                        node.start_mark.line + 1,
                    )
                ]
            )
        in_progress.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) in in_progress:
                raise StoryError(
                    [
                        StoryIssue(
                            file,
                            "",
                            "an alias refers to a node that contains it (recursive alias)",
                            child.start_mark.line + 1,
                        )
                    ]
                )
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))
    total = sizes[id(root)]
    if total > max_nodes:
        raise StoryError(
            [
                StoryIssue(
                    file,
                    "",
                    f"more than {max_nodes} YAML nodes once aliases are expanded "
                    "(an alias bomb?); write the values out or use fewer aliases",
                )
            ]
        )
    return total
