"""The docs tell the truth: every command they show exists and runs, every link resolves.

Every ``ketenhub …`` and ``make …`` line in a shell code block of README.md, SECURITY.md and
docs/*.md is checked: a ``ketenhub`` line runs with ``--help`` appended (so its command and
every option it names must exist; nothing is executed), and the lines that need no broker run
for real; ``make`` targets exist and ``make --dry-run`` accepts them. Commands named in the
prose exist with their options. The README stays short; its command table lists every
command there is, its configuration table every setting with its real default; the runbook's
reason codes, metrics and alerts are the code's. Every relative link and anchor resolves.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from prometheus_client.metrics import MetricWrapperBase
from typer.testing import CliRunner

from hub.cli.main import app
from hub.settings import Settings
from observability.metrics import HubMetrics
from schemas.codes import RejectReason

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "SECURITY.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 300

# Pages other engineers write in parallel: the README's "Written alongside" list may link
# them before they land. Nothing else may dangle, and no other page may link them early.
PENDING_PAGES = {"docs/partners.md", "docs/indicators.md"}
# Settings documented in the README that another branch adds; tolerated while hub/settings.py
# does not have them yet, checked like every other setting once it does.
PENDING_SETTINGS = {"KETENHUB_METRICS_HOST"}

# Shown commands that need no broker: these run for real, exactly as the docs show them.
RUN_FOR_REAL = {("validate",), ("policy", "check"), ("policy", "explain"),
                ("adapters", "list"), ("partners",)}  # fmt: skip

SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
SEPARATORS = {"&&", "||", ";", "|", "&"}
REDIRECTIONS = {">", ">>", "<", ">&", "&>", "2>"}
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
FENCE = re.compile(r"^\s*```\s*([\w+-]*)")

runner = CliRunner()
ROOT: Any = typer.main.get_command(app)


@dataclass(frozen=True)
class Shown:
    """One command as a page shows it: which tool, its arguments, and where it stands."""

    page: str
    line: int
    tool: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.tool} {shlex.join(self.argv)}"


def _code_lines(page: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, code block language, line) of every line inside a fenced code block."""
    language: str | None = None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1).lower()
            continue
        if language is not None:
            yield number, language, line


def _prose_lines(page: Path) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code:
            yield line


def simple_commands(line: str) -> list[list[str]]:
    """A shell line cut into its simple commands: comments, redirections and leading
    ``VAR=value`` assignments removed."""
    lexer = shlex.shlex(line.removeprefix("$ "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    tokens = iter(list(lexer))
    for token in tokens:
        if token in SEPARATORS:
            commands.append([])
        elif token in REDIRECTIONS:
            next(tokens, None)
        elif not commands[-1] and ENV_ASSIGNMENT.match(token):
            continue
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def shown_commands() -> list[Shown]:
    shown = []
    for page in PAGES:
        name = str(page.relative_to(REPO))
        for number, language, line in _code_lines(page):
            if language not in SHELL_LANGUAGES:
                continue
            for words in simple_commands(line):
                tool = Path(words[0]).name if words[0].endswith("ketenhub") else words[0]
                if tool in {"ketenhub", "make"}:
                    shown.append(Shown(name, number, tool, tuple(words[1:])))
    return shown


SHOWN = shown_commands()
KETENHUB = [s for s in SHOWN if s.tool == "ketenhub"]
MAKE = [s for s in SHOWN if s.tool == "make"]


def command_path(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The (sub)command the arguments name: as far as the command tree goes."""
    path: list[str] = []
    command = ROOT
    for word in argv:
        subcommands = getattr(command, "commands", None)
        if not subcommands or word not in subcommands:
            break
        command = subcommands[word]
        path.append(word)
    return tuple(path)


def command_at(path: tuple[str, ...]) -> Any:
    command = ROOT
    for word in path:
        command = command.commands[word]
    return command


def all_command_paths(command: Any = ROOT, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command a user can run: the leaves, and groups that run without a subcommand."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        return {path}
    paths = {path} if path and command.invoke_without_command else set()
    for name, sub in subcommands.items():
        if not sub.hidden:
            paths |= all_command_paths(sub, (*path, name))
    return paths


def options_of(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def _no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output, result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)


# --- what the pages show ---------------------------------------------------------------------


def test_the_pages_show_commands() -> None:
    """The extraction finds what the pages show (an empty list would pass everything)."""
    assert len(KETENHUB) >= 40, [str(s) for s in KETENHUB]
    readme_make = {s.argv for s in MAKE if s.page == "README.md"}
    assert {("run",), ("test",)} <= readme_make
    paths = {command_path(s.argv) for s in KETENHUB}
    assert paths >= RUN_FOR_REAL, RUN_FOR_REAL - paths


def test_a_shell_line_is_cut_into_its_commands() -> None:
    line = "KETENHUB_X=1 .venv/bin/ketenhub dlq show 2:17 --payload > out.json && make test  # c"
    assert simple_commands(line) == [
        [".venv/bin/ketenhub", "dlq", "show", "2:17", "--payload"],
        ["make", "test"],
    ]
    assert simple_commands("ketenhub run &   # the hub") == [["ketenhub", "run"]]


@pytest.mark.parametrize("shown", KETENHUB, ids=str)
def test_every_shown_command_and_its_options_exist(shown: Shown) -> None:
    """``--help`` appended: an unknown command or option fails, nothing is executed."""
    result = runner.invoke(app, [*shown.argv, "--help"])
    _no_traceback(result)
    assert result.exit_code == 0, f"{shown}\n{result.output}"
    usage = re.search(r"Usage: \S+(( [a-z][a-z-]*)*)", result.output)
    assert usage, result.output
    assert tuple(usage.group(1).split()) == command_path(shown.argv), result.output


@pytest.mark.parametrize(
    "shown",
    [s for s in KETENHUB if command_path(s.argv) in RUN_FOR_REAL or s.argv == ("--version",)],
    ids=str,
)
def test_shown_commands_that_need_no_broker_run(
    shown: Shown, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as a newcomer would, from the checkout with no KETENHUB_* settings."""
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, list(shown.argv))
    _no_traceback(result)
    assert result.exit_code == 0, f"{shown}\n{result.output}"
    assert result.output.strip(), shown
    if command_path(shown.argv) == ("validate",):
        assert '"resourceType": "Bundle"' in result.output


@pytest.mark.parametrize("shown", MAKE, ids=str)
def test_every_shown_make_target_exists(shown: Shown) -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))
    assert shown.argv and set(shown.argv) <= targets, shown
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", *shown.argv],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert dry_run.returncode == 0, dry_run.stderr


def _inline_commands() -> list[tuple[str, str]]:
    """(page, span) of every ``ketenhub …`` or ``make …`` code span in the prose."""
    spans = []
    for page in PAGES:
        for line in _prose_lines(page):
            spans += [(page.name, s) for s in re.findall(r"`((?:ketenhub|make) [^`]+)`", line)]
    return spans


INLINE = _inline_commands()


@pytest.mark.parametrize(("page", "span"), INLINE, ids=[f"{p}: {s}" for p, s in INLINE])
def test_every_command_named_in_the_prose_exists(page: str, span: str) -> None:
    """``ketenhub dlq show REF --payload`` in a sentence: the command and its options exist
    (placeholders such as REF, <id> or … stand for arguments)."""
    span = span.replace("\\|", "|")  # a | inside a table cell
    tool, *words = span.split()
    if tool == "make":
        makefile = (REPO / "Makefile").read_text()
        targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
        settings = {w.split("=")[0] for w in words if "=" in w}  # make PYTHON=... install
        assert {w for w in words if "=" not in w} <= targets, span
        assert all(re.search(rf"\b{name}\b", makefile) for name in settings), span
        return
    options = set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", span)) - {"--help"}
    for names in _table_paths(span):
        path = command_path(names)
        command = command_at(path)
        if hasattr(command, "commands"):  # a group: every word must be one of its commands
            assert path == names, f"{page}: {span!r}: no command {' '.join(names)!r}"
        else:
            assert path, f"{page}: {span!r}"
        missing = options - options_of(command)
        assert not missing, (page, span, missing)


def test_the_prose_names_commands() -> None:
    assert len(INLINE) >= 30
    assert ("README.md", "make run") in INLINE


# --- the README --------------------------------------------------------------------------------


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_the_readme_performance_section_is_short_and_points_to_the_history() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Performance\n") :].split("\n## ")[1]
    assert len(section.splitlines()) <= 40
    assert "](docs/performance.md)" in section
    assert re.search(r"20\d\d-\d\d-\d\d", section), "figures without a date"
    history = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    assert re.findall(r"^## .*", history, re.M)[0] == "## Current figures"


def _readme_table_column(first_cell: str) -> list[str]:
    """The first cells (code spans) of the README table rows that start with first_cell."""
    cells = []
    for line in _prose_lines(REPO / "README.md"):
        match = re.match(r"^\| `([^`]+)` \|", line)
        if match and match.group(1).startswith(first_cell):
            cells.append(match.group(1).replace("\\|", "|"))
    return cells


def _table_paths(cell: str) -> list[tuple[str, ...]]:
    """``ketenhub kafka fetch|start`` -> [("kafka", "fetch"), ("kafka", "start")]."""
    words: list[list[str]] = [[]]
    for word in cell.split()[1:]:
        if word.startswith(("-", "[", "<", "…")) or not word.islower():
            break
        words = [[*prefix, alternative] for prefix in words for alternative in word.split("|")]
    return [tuple(w) for w in words]


def test_the_command_table_lists_every_command() -> None:
    rows = _readme_table_column("ketenhub ")
    documented = {path for row in rows for path in _table_paths(row)}
    assert all_command_paths() <= documented, all_command_paths() - documented


@pytest.mark.parametrize("row", _readme_table_column("ketenhub "))
def test_the_command_table_names_real_commands_and_options(row: str) -> None:
    options = set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", row))
    for path in _table_paths(row):
        assert command_path(path) == path, f"no command {' '.join(path)!r}"
        missing = options - options_of(command_at(path))
        assert not missing, (row, missing)


def _documented_settings() -> dict[str, str]:
    """Variable -> default cell of the README's configuration table (``_FILE`` rows expanded)."""
    table = {}
    for line in _prose_lines(REPO / "README.md"):
        match = re.match(r"^\| `(KETENHUB_[A-Z_]+)`( / `(_[A-Z]+)`)? \| ([^|]+) \|", line)
        if match:
            table[match.group(1)] = match.group(4).strip()
            if match.group(3):
                table[match.group(1) + match.group(3)] = match.group(4).strip()
    return table


def _cli_envvars(command: Any = ROOT) -> set[str]:
    found = {p.envvar for p in command.params if isinstance(getattr(p, "envvar", None), str)}
    for sub in getattr(command, "commands", {}).values():
        found |= _cli_envvars(sub)
    return found


def test_the_configuration_table_lists_every_setting_and_nothing_else() -> None:
    documented = _documented_settings()
    settings = {f"KETENHUB_{name.upper()}" for name in Settings.model_fields}
    assert settings <= set(documented), settings - set(documented)
    unknown = set(documented) - settings - _cli_envvars()
    assert unknown <= PENDING_SETTINGS, unknown - PENDING_SETTINGS


def test_the_documented_defaults_are_the_real_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    defaults = Settings()
    checked = 0
    for variable, cell in _documented_settings().items():
        literal = re.fullmatch(r"`([^`]+)`", cell)
        field = variable.removeprefix("KETENHUB_").lower()
        if not literal or field not in Settings.model_fields:
            continue
        value = getattr(defaults, field)
        if value is None:  # the table gives the effective default (e.g. the hub's user name)
            continue
        if isinstance(value, Path) and value.is_absolute():
            value = value.relative_to(REPO) if value.is_relative_to(REPO) else value
        assert literal.group(1) == str(value), (variable, cell, value)
        checked += 1
    assert checked >= 10


def test_the_reason_code_table_lists_every_reason_code() -> None:
    """Partners get these codes in their nacks: every one is explained, none is made up."""
    lines = _prose_lines(REPO / "docs" / "operations.md")
    documented = {m.group(1) for line in lines if (m := re.match(r"^\| `([a-z-]+)` \|", line))}
    assert documented == {reason.value for reason in RejectReason}


def test_the_metric_table_is_what_the_hub_exports() -> None:
    """Name, type and labels of every metric in the runbook, and no metric left out."""
    exported = set()
    for metric in vars(HubMetrics()).values():
        if isinstance(metric, MetricWrapperBase):
            suffix = "_total" if metric._type == "counter" else ""
            exported.add((metric._name + suffix, metric._type, tuple(metric._labelnames)))
    documented = set()
    for line in _prose_lines(REPO / "docs" / "operations.md"):
        row = re.match(r"^\| `(ketenhub_[a-z_]+)` \| (\w+) \|([^|]*)\|", line)
        if row:
            labels = re.sub(r"\([^)]*\)", "", row.group(3)).replace(",", " ").split()
            documented.add((row.group(1), row.group(2), tuple(labels)))
    assert documented == exported


def test_the_alert_table_is_the_alert_rules() -> None:
    rules = yaml.safe_load((REPO / "deploy/prometheus/alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    lines = _prose_lines(REPO / "docs" / "operations.md")
    documented = {m.group(1) for line in lines if (m := re.match(r"^\| `(Ketenhub\w+)` \|", line))}
    assert documented == alerts


REPO_PATH = re.compile(
    r"`((?:hub|adapters|routing|schemas|observability|deploy|scripts|tests|docs)/[^`\s<*:]*)"
    r"(?:::(\w+))?`"
)


def test_every_source_path_the_pages_name_exists() -> None:
    """`hub/kafka/preflight.py`, `tests/e2e/test_auth.py::test_x`: the file (and test) exist."""
    missing = []
    for page in PAGES:
        for path, test in REPO_PATH.findall(page.read_text(encoding="utf-8")):
            target = REPO / path
            if not target.exists():
                missing.append(f"{page.name}: {path}")
            elif test and f"def {test}(" not in target.read_text(encoding="utf-8"):
                missing.append(f"{page.name}: {path}::{test}")
    assert not missing, missing


def test_every_test_the_pages_name_exists() -> None:
    """SECURITY.md names its proofs as `test_…`: each is a test function in tests/."""
    sources = "\n".join(f.read_text(encoding="utf-8") for f in (REPO / "tests").rglob("test_*.py"))
    named = {n for page in PAGES for n in re.findall(r"`(test_\w+)`", page.read_text())}
    assert len(named) >= 10
    assert {n for n in named if f"def {n}(" not in sources} == set()


# --- links ---------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in _prose_lines(page) if line.startswith("#")}


def _links() -> Iterator[tuple[Path, str]]:
    for page in PAGES:
        for line in _prose_lines(page):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if not re.match(r"^[a-z]+:", target):
                    yield page, target


def test_every_relative_link_resolves() -> None:
    broken = []
    for page, target in _links():
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        relative = resolved.relative_to(REPO) if resolved.is_relative_to(REPO) else resolved
        if not resolved.exists():
            pending = page.name == "README.md" and str(relative) in PENDING_PAGES
            if not pending:
                broken.append(f"{page.name}: {target}")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_links_to_pages_written_alongside_are_only_in_the_marked_list() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    marked = readme[readme.index("Written alongside") :].split("\n\n")[1]
    for page, target in _links():
        if target in PENDING_PAGES and not (REPO / target).exists():
            assert page.name == "README.md" and f"]({target})" in marked, (page, target)


def test_a_heading_slug_is_githubs() -> None:
    assert _slug("Dead letters: inspect and replay") == "dead-letters-inspect-and-replay"
    assert _slug("How `ketenhub bench` measures") == "how-ketenhub-bench-measures"
    assert _slug("Nothing lost, nothing twice") == "nothing-lost-nothing-twice"
