"""The command an entrypoint finally runs, for the import levels (python.py, node.py): the config's
argv with the wrappers in front of it taken off — `sh -c "exec python app.py"` (Docker's shell form),
`env VAR=1 …`, `tini -- …`, `dumb-init …` — as long as what remains is one plain command. A shell
string with operators, expansions or redirections is not guessed at: None."""

from __future__ import annotations

import posixpath
import shlex

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_SHELL_SYNTAX = set(";&|<>()`$*?[]{}~\n")
_INIT_FLAGS = {"tini": {"-s", "-g", "-v", "-vv", "-vvv", "-w", "-l"}, "dumb-init": {"--single-child", "-c", "-v"}}


def shell_words(text: str) -> list[str] | None:
    """A shell command string as words, or None when the shell would do more than split it."""
    if any(ch in _SHELL_SYNTAX for ch in text):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    return words


def unwrap(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """`argv` without its wrappers; None when a wrapper hides the command (a shell script, a shell
    string that is more than one command)."""
    words = list(argv)
    for _ in range(8):  # wrappers of wrappers, bounded
        if not words:
            return ()
        name = posixpath.basename(words[0])
        if name in SHELLS:
            rest = words[1:]
            while rest and rest[0].startswith("-") and rest[0] != "-c":
                rest = rest[1:]
            if not rest or rest[0] != "-c" or len(rest) < 2:
                return None  # a shell running a script file, or interactive
            inner = shell_words(rest[1])
            if inner is None:
                return None
            if inner[:1] == ["exec"]:
                inner = inner[1:]
            words = inner
        elif name == "env":
            rest = words[1:]
            while rest and ("=" in rest[0] or rest[0] in ("-i", "-", "--ignore-environment")):
                rest = rest[1:]
            if rest and rest[0].startswith("-"):
                return None  # env -S, -u NAME…: not followed
            words = rest
        elif name in _INIT_FLAGS:
            rest = words[1:]
            while rest and rest[0] in _INIT_FLAGS[name]:
                rest = rest[1:]
            if rest[:1] == ["--"]:
                rest = rest[1:]
            if rest and rest[0].startswith("-"):
                return None
            words = rest
        else:
            return tuple(words)
    return None
