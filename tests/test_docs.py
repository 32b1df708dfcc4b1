"""Every shell example in README.md and docs/*.md is run, and what it shows is what it prints.

The convention (docs/design.md, "Examples are tests", says the same):

- A ```console block is run; blocks of any other language (```sh, ```text, ```python, ...) are
  not. In a console block, a line starting with ``$ `` is a command and the lines after it, up to
  the next ``$ `` line or the end of the block, are its output: stdout and stderr as a terminal
  shows them.
- ``$ codesets ARGS...`` runs in-process (typer's CliRunner on ``codesets.cli.app``) and its
  output is compared exactly, after the warehouse's path is replaced by ``/tmp/wh``, the block's
  working folder by ``/tmp/work``, and trailing spaces and blank lines are removed. A trailing ``# comment`` is not part of the command, and
  ``| head -N`` keeps the first N lines of stdout (stderr follows, as a terminal shows it).
- ``$ cat FILE`` writes the lines shown as FILE in the block's working folder, so an example can
  show its input; ``$ export CODESETS_WAREHOUSE=/tmp/wh`` is accepted and does nothing (the
  test names the warehouse). Any other command fails the test.
- Each block starts from a copy of one sample warehouse, built once per session with
  ``codesets refresh --sample`` (CODESETS_WAREHOUSE names the copy), in a working folder of its
  own where ``../shared/data`` is the repository's ``../shared/data``. Commands of one block share
  the warehouse, in order. A block whose first ``codesets`` command is ``codesets refresh --sample``
  shows the session's own build of that warehouse (the command is not run twice).
- A block that names ``../shared/data`` runs only where that folder exists (skipped with the
  reason otherwise). Every example is marked slow (the full lane runs them): building the sample
  warehouse alone takes 20 to 40 s on 2 cores. The link and coverage checks below are fast.

To paste the real outputs after changing an example: ``.venv/bin/python -m tests.test_docs [README.md docs/x.md ...]``
rewrites each console block's outputs in place with what the commands print today (read the
diff before committing it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import requires_shared

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
SHOWN_WAREHOUSE = "/tmp/wh"
SHOWN_WORK = "/tmp/work"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
_HEAD = re.compile(r"\|\s*head\s+-n?\s*(\d+)\s*$")


@dataclass
class Command:
    line: str  # the text after "$ "
    expected: list[str]
    lineno: int  # 1-based line of the "$ " line in its page


@dataclass
class Block:
    page: Path
    lineno: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    commands: list[Command]

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.lineno}"

    @property
    def needs_shared_data(self) -> bool:
        return any("../shared/data" in c.line for c in self.commands)


def console_blocks(page: Path) -> list[Block]:
    """The ```console blocks of a Markdown page, each split into commands and their outputs."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if language == "console":
            commands: list[Command] = []
            for n in range(i + 1, end):
                if lines[n].startswith("$ "):
                    commands.append(Command(lines[n][2:], [], n + 1))
                elif commands:
                    commands[-1].expected.append(lines[n])
                elif lines[n].strip():
                    raise AssertionError(f"{page}:{n + 1}: a console block starts with a `$ ` command")
            blocks.append(Block(page, i + 1, end + 1, commands))
        i = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in console_blocks(page)]


def _normalise(text: str, warehouse: Path, work: Path | None = None) -> list[str]:
    text = text.replace(str(warehouse), SHOWN_WAREHOUSE)
    if work is not None:
        text = text.replace(str(work), SHOWN_WORK)
    out = [line.rstrip() for line in text.splitlines()]
    while out and not out[-1]:
        out.pop()
    return out


class Session:
    """One sample warehouse for the test session; each block runs on a copy of it."""

    def __init__(self, root: Path):
        from typer.testing import CliRunner

        from codesets.cli.app import app

        self.app, self.runner = app, CliRunner()
        self.root = root
        self.sample = root / "sample-wh"
        result = self.runner.invoke(app, ["refresh", "--sample"], env={"CODESETS_WAREHOUSE": str(self.sample)})
        assert result.exit_code == 0, result.output
        self.sample_output = result.output
        self.count = 0

    def run_block(self, block: Block) -> list[tuple[Command, list[str]]]:
        """Run a block's commands in order; each command with what it printed (normalised)."""
        self.count += 1
        place = self.root / f"block-{self.count}"
        work = place / "work"
        work.mkdir(parents=True)
        if SHARED.exists():
            (place / "shared").symlink_to(SHARED, target_is_directory=True)
        warehouse = place / "wh"
        shutil.copytree(self.sample, warehouse, symlinks=True)
        env = {"CODESETS_WAREHOUSE": str(warehouse), "COLUMNS": "200"}
        printed = []
        before = Path.cwd()
        os.chdir(work)
        try:
            first = True  # the block's first codesets command (after any `export` or `cat`)
            for command in block.commands:
                printed.append((command, self._run(command, env, warehouse, work, first=first)))
                first = first and not command.line.startswith("codesets")
        finally:
            os.chdir(before)
        return printed

    def _run(self, command: Command, env: dict, warehouse: Path, work: Path, first: bool) -> list[str]:
        where = f"line {command.lineno}"
        head = _HEAD.search(command.line)
        text = command.line[: head.start()] if head else command.line
        words = shlex.split(text, comments=True)
        if words[:1] == ["cat"] and len(words) == 2:
            (work / words[1]).write_text("".join(line + "\n" for line in command.expected), encoding="utf-8")
            return list(command.expected)
        if words[:1] == ["export"]:
            assert words == ["export", f"CODESETS_WAREHOUSE={SHOWN_WAREHOUSE}"], f"{where}: only export CODESETS_WAREHOUSE={SHOWN_WAREHOUSE}"
            return []
        assert words[:1] == ["codesets"], f"{where}: the examples run only `codesets`, `cat FILE` and `export`; got {text!r}"
        if first and words[1:] == ["refresh", "--sample"]:
            return _normalise(self.sample_output, self.sample)
        result = self.runner.invoke(self.app, words[1:], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{where}: `{text}` raised {result.exception!r}") from result.exception
        if head:
            stdout = _normalise(result.stdout, warehouse, work)[: int(head.group(1))]
            return stdout + _normalise(result.stderr, warehouse, work)
        return _normalise(result.output, warehouse, work)


@pytest.fixture(scope="session")
def docs_session(tmp_path_factory):
    return Session(tmp_path_factory.mktemp("docs"))


def _params():
    params = []
    for block in all_blocks():
        marks = [pytest.mark.slow]  # building the sample warehouse alone takes 20-40 s on 2 cores
        if block.needs_shared_data:
            marks.append(requires_shared(SHARED_DATA))  # skipped, with the reason, where ../shared/data is absent
        params.append(pytest.param(block, id=block.id, marks=marks))
    return params


@pytest.mark.parametrize("block", _params())
def test_console_example(block, docs_session):
    for command, printed in docs_session.run_block(block):
        expected = [line.rstrip() for line in command.expected]
        while expected and not expected[-1]:
            expected.pop()
        assert printed == expected, f"{block.page.name} line {command.lineno}: `$ {command.line}` prints:\n" + "\n".join(printed)


def test_the_pages_have_examples():
    """The README and the pages that show commands keep at least one run example each."""
    for name in ["README.md", "docs/warehouse.md", "docs/codes.md", "docs/snomed.md", "docs/translation.md"]:
        assert console_blocks(ROOT / name), f"{name} has no ```console example"


def test_docs_links_resolve():
    """Every relative link between the pages names a file that exists."""
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"


def _update(names: list[str]) -> None:
    """Rewrite the console blocks' outputs (of the pages named, else all) with what their commands print today."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        session = Session(Path(tmp))
        for page in PAGES:
            if names and str(page.relative_to(ROOT)) not in names:
                continue
            if not console_blocks(page):
                continue
            lines = page.read_text(encoding="utf-8").splitlines()
            for block in reversed(console_blocks(page)):
                if block.needs_shared_data and not SHARED_DATA.is_dir():
                    continue
                new = []
                for command, printed in session.run_block(block):
                    new += ["$ " + command.line, *printed]
                lines[block.lineno : block.end - 1] = new
            page.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    import sys

    _update(sys.argv[1:])
