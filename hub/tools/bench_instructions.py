"""The hub's in-process cost as instructions per message: a figure that does not wobble.

``bench_inprocess`` times both stages with the CPU clock, and on a shared 2-core VM the same
code reads 380 one run and 470 the next. An A/B of a change smaller than that needs a count
that does not depend on the machine's mood: this runs the same warmed pipeline under
valgrind's callgrind, which counts the instructions executed, and collects only while the
measured messages run (within 0.3 % run to run). The measured loop runs inside one ctypes
call (libc's ``qsort`` of two items, whose comparison is the loop), and callgrind collects
only inside ``ffi_call``: nothing before or after it counts. Instructions are not time (a
cache miss costs more than an add), so a change is judged on both.

Run it as ``python -m hub.tools.bench_instructions [N] [--by-library] [--json]``; it needs
valgrind (every machine of this project has it) and takes about a minute per 500 messages.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOGGLE = "ffi_call"
"""The one function whose runs callgrind collects in: libffi's, which ctypes calls."""
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


class ValgrindMissing(RuntimeError):
    """valgrind is not on PATH: the count cannot be made here."""


@dataclass(frozen=True)
class InstructionCount:
    """Instructions both stages' own code executes per message (callgrind's ``Ir``)."""

    messages: int
    per_msg: float
    by_library: dict[str, float] = field(default_factory=dict)
    """Instructions per message executed in each shared library (the interpreter's too)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "inprocess_instructions_per_msg": round(self.per_msg),
            "inprocess_instructions_by_library": {k: round(v) for k, v in self.by_library.items()},
            "inprocess_messages": self.messages,
        }


def count(messages: int = 500, warmup: int = 300, by_library: bool = False) -> InstructionCount:
    """Run ``messages`` warmed bench-mix messages under callgrind; the count per message."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise ValgrindMissing("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="ketenhub-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            valgrind, "--tool=callgrind", "--collect-atstart=no", f"--toggle-collect={TOGGLE}",
            f"--callgrind-out-file={out}",
            sys.executable, "-m", "hub.tools.bench_instructions", "--child",
            str(messages), "--warmup", str(warmup),
        ]  # fmt: skip
        # Hash randomisation changes how dicts probe, so the count: one seed, every run.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"the run under callgrind failed: {tail}")
        text = out.read_text()
        libraries = by_library_of(text) if by_library else Counter()
    total = parse_totals(text)
    return InstructionCount(
        messages, total / messages, {k: v / messages for k, v in libraries.items()}
    )


def parse_totals(text: str) -> int:
    """The collected instructions of a callgrind output file (its ``totals:`` line)."""
    found = _TOTALS.search(text)
    if found is None:
        raise RuntimeError("callgrind wrote no totals")
    return int(found.group(1))


def by_library_of(profile: str) -> Counter[str]:
    """Self instructions per shared object (the interpreter's, lxml's, libc's...).

    Reads callgrind's own format rather than ``callgrind_annotate``'s listing, which leaves
    the object off inlined lines: every self-cost line counts, so the split adds up to the
    total. ``ob=`` names the object of the lines that follow; ``cob=`` shares its name table;
    the line after ``calls=`` is a callee's inclusive cost, counted where it was spent.
    """
    names: dict[str, str] = {}
    spent: Counter[str] = Counter()
    current = "?"
    after_call = False
    for line in profile.splitlines():
        if line.startswith(("ob=", "cob=")):
            name = _object_name(line.split("=", 1)[1], names)
            if line.startswith("ob="):
                current = name
        elif line.startswith("calls="):
            after_call = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if after_call:
                after_call = False
                continue
            spent[_short(current)] += int(line.split()[-1])
    return spent


def _object_name(spec: str, names: dict[str, str]) -> str:
    """``(3) /lib/libc.so.6`` defines name 3, ``(3)`` refers to it, ``/lib/libc.so.6`` is
    uncompressed: the object's name, with ``names`` kept up to date."""
    if not spec.startswith("("):
        return spec.strip() or "?"
    key, name = spec[1:].split(")", 1)
    if name.strip():
        names[key] = name.strip()
    return names.get(key, "?")


def _short(path: str) -> str:
    """``libpython3.11``, ``etree``: the object's file name without its ABI tail."""
    return Path(path).name.split(".cpython")[0].split(".so")[0]


def _child(messages: int, warmup: int) -> None:
    """Inside valgrind: warm the pipeline, then run the measured messages in one ctypes call."""
    # Imported here: the parent (and its --help) need not load the whole hub to start valgrind.
    from hub.tools.bench_inprocess import heap_as_in_hub_run, hub_logging, warmed

    with hub_logging():
        pipeline, measured = warmed(messages, warmup)
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

        def measured_loop(_a: int | None, _b: int | None) -> int:
            pipeline.run(measured)
            return 0

        compare = compare_type(measured_loop)
        two = (ctypes.c_int * 2)(0, 1)  # two items: qsort compares them once
        with heap_as_in_hub_run():  # as bench_inprocess measures (its collect is not counted)
            libc.qsort(two, 2, ctypes.sizeof(ctypes.c_int), compare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hub.tools.bench_instructions",
        description="Instructions per message of both stages' own code (callgrind), the "
        "repeatable companion of inprocess_us_per_msg.",
    )
    parser.add_argument("messages", nargs="?", type=int, default=500,
                        help="messages measured (default 500, about a minute)")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=300,
                        help="messages run first, not counted (default 300)")  # fmt: skip
    parser.add_argument("--by-library", action="store_true",
                        help="also split the count by shared library")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.warmup < 0:
        parser.error("messages must be at least 1 and --warmup not negative")
    if args.child:
        _child(args.messages, args.warmup)
        return 0
    sys.stderr.write(f"counting {args.messages} messages under callgrind "
                     f"(about {max(1, args.messages // 500)} min)...\n")  # fmt: skip
    try:
        result = count(args.messages, args.warmup, args.by_library)
    except (ValgrindMissing, RuntimeError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return 0
    sys.stdout.write(f"in-process: {result.per_msg:,.0f} instructions per message "
                     f"({result.messages} messages)\n")  # fmt: skip
    for library, per_msg in sorted(result.by_library.items(), key=lambda kv: -kv[1]):
        if per_msg < 1:
            continue  # objects the messages barely touch: noise in the listing
        share = per_msg / result.per_msg * 100
        sys.stdout.write(f"  {library:24} {per_msg:11,.0f}  {share:4.1f} %\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
