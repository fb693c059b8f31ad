"""The instruction count: it collects the measured messages only, and its split adds up."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hub.tools.bench_instructions import by_library_of, count, main, parse_totals

# A callgrind profile in its own format, cut to what the parser meets: a named object,
# a reference to a name a ``cob=`` defined, relative positions, and a call whose inclusive
# cost (the line after ``calls=``) belongs to the callee's own lines, not the caller's.
PROFILE = """\
# callgrind format
version: 1
positions: line
events: Ir
summary: 1000

ob=(3) /usr/lib/x86_64-linux-gnu/libc.so.6
fl=(1) malloc.c
fn=(1) malloc
10 100
+2 50
cob=(5) /opt/python/lib/libpython3.11.so.1.0
cfi=(2) ceval.c
cfn=(2) eval
calls=1 20
-1 700

ob=(5)
fl=(2)
fn=(2)
20 600
* 100
ob=(7) /venv/lxml/etree.cpython-311-x86_64-linux-gnu.so
fl=(3) etree.c
fn=(3) parse
5 150

totals: 1000
"""


def test_the_totals_line_is_the_count() -> None:
    assert parse_totals(PROFILE) == 1000


def test_a_profile_without_totals_is_an_error_not_zero() -> None:
    with pytest.raises(RuntimeError, match="no totals"):
        parse_totals("events: Ir\n")


def test_the_split_by_library_counts_self_cost_where_it_was_spent_and_adds_up() -> None:
    split = by_library_of(PROFILE)
    assert split == {"libc": 150, "libpython3.11": 700, "etree": 150}
    assert sum(split.values()) == parse_totals(PROFILE)


def test_without_valgrind_the_tool_says_so_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["10"]) == 2
    err = capsys.readouterr().err
    assert "error: valgrind is not installed" in err
    assert "Traceback" not in err


def test_bad_arguments_are_refused_with_a_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["0"])
    assert exited.value.code == 2
    assert "messages must be at least 1" in capsys.readouterr().err


def test_a_real_count_collects_the_measured_messages_and_not_the_start_up() -> None:
    """One run under valgrind (~40 s): what it counts is the messages' work, split in full.

    Start-up (imports, schema loading, the warm-up) runs billions of instructions; a per
    message figure of a few million says the toggle left them out, and the interpreter's
    share says the measured loop itself ran under the count.
    """
    result = count(messages=20, warmup=5, by_library=True)
    assert result.messages == 20
    assert 300_000 < result.per_msg < 10_000_000
    assert sum(result.by_library.values()) == pytest.approx(result.per_msg, rel=1e-9)
    # The interpreter: libpython, or the executable itself when it is linked statically
    # (Debian's python3.11, which make install prefers).
    interpreter = ("libpython", os.path.basename(os.path.realpath(sys.executable)))
    assert max(result.by_library, key=lambda k: result.by_library[k]).startswith(interpreter)
    assert {"inprocess_instructions_per_msg", "inprocess_instructions_by_library"} <= set(
        result.to_json()
    )
