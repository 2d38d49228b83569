"""Runs the code blocks of the project's Markdown pages, offline, so no example can rot.

The pages are README.md and docs/**/*.md. Sybil finds the fenced blocks and the markers (in
indented blocks too: lists, admonitions, content tabs); this module decides what each block is
and runs it. The rules for whoever writes a page are in tests/docs/README.md.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docs_checks import (
    ROOT,
    DocsError,
    check_config,
    check_imports,
    check_shell,
    installs_packages,
    logical_lines,
)
from docs_services import Background, OtlpReceiver, TemporalServer, free_port, loopback_options
from sybil import Document, Example, Region
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, RawFencedCodeBlockLexer

BIN = Path(sys.executable).parent
PYTHON, SHELL, CONFIG, CONSOLE = "python", "shell", "config", "console"
#: A block's language (the first word of its info string) and what it is.
KINDS = {
    "python": PYTHON,
    "py": PYTHON,
    "bash": SHELL,
    "sh": SHELL,
    "shell": SHELL,
    "toml": CONFIG,
    "yaml": CONFIG,
    "yml": CONFIG,
    "console": CONSOLE,
}
#: A first line naming a relative file (``# agents/pricing.py``): the block is that file.
FILE_HEADER = re.compile(r"^#\s*(?P<path>[\w.-]+(?:/[\w.-]+)*\.\w+)\s*$")
#: ``agentorch run examples/rfp   # exit 6: not submitted``: that command's exit code (the first
#: ``exit N`` in the line's comment).
EXIT_COMMENT = re.compile(r"\s#[^#\n]*?\bexit\s+(?P<code>\d+)\b")
SHELL_TIMEOUT = 300
#: Shell blocks cannot reach the internet by accident: proxies that refuse, pip without an index.
OFFLINE = {
    **{
        name: "http://127.0.0.1:9"
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
    },
    "no_proxy": "127.0.0.1,localhost",
    "NO_PROXY": "127.0.0.1,localhost",
    "PIP_NO_INDEX": "1",
}
MARKER_ARGS = re.compile(
    r"(?P<name>skip|provider|offline|postgres|temporal|otlp|background|interrupt)\b"
    r"\s*(?P<reason>.*?)\s*$"
)
#: ``interrupt KILL when TEXT``: the signal, and the output that says the command got that far.
INTERRUPT_ARGS = re.compile(r"(?P<signal>KILL|INT|TERM)\s+when\s+(?P<text>.+)$")
#: The reader's Temporal service and OTLP collector, as the pages write them.
TEMPORAL_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1|temporal\.internal):7233\b")
OTLP_URL = re.compile(r"http://localhost:4318\b")
START_DEV = re.compile(r"^(\s*temporal\s+server\s+start-dev\b[^#\n]*)", re.MULTILINE)


@dataclass
class Block:
    """One fenced block: its language, text and first line of text in the page."""

    language: str
    kind: str | None
    source: str
    line: int
    hidden: bool = False  # an ``invisible-code-block`` (setup the reader does not see)

    @property
    def file(self) -> str | None:
        first = self.source.split("\n", 1)[0]
        match = FILE_HEADER.match(first) if self.kind in (PYTHON, CONFIG, SHELL) else None
        return match.group("path") if match else None


@dataclass
class Marker:
    name: str
    reason: str
    line: int


# --- parsing --------------------------------------------------------------------------------------


def parse_page(path: Path) -> Document:
    """The page's blocks and markers as Sybil examples, in page order (a block inside another
    block, e.g. Markdown shown in a ````markdown fence, is part of that block)."""
    document = Document(path.read_text(encoding="utf-8"), str(path))
    fences = RawFencedCodeBlockLexer(
        info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE),
        mapping={"info": "info", "source": "source"},
    )
    markers = DirectiveInHTMLCommentLexer(directive="docs-test", arguments=".*?")
    hidden = DirectiveInHTMLCommentLexer(directive="invisible-code-block", arguments="python|bash")
    regions: list[Region] = []
    for region in fences(document):
        info = str(region.lexemes["info"]).strip()
        language = info.split()[0].lower() if info else ""
        source = str(region.lexemes["source"])
        line = document.text.count("\n", 0, region.start) + 2
        region.parsed = Block(language, KINDS.get(language), source, line)
        region.evaluator = evaluate_block
        regions.append(region)
    for region in hidden(document):
        line = document.text.count("\n", 0, region.start) + 2
        language = str(region.lexemes["arguments"]).strip()
        source = str(region.lexemes["source"])
        region.parsed = Block(language, KINDS[language], source, line, hidden=True)
        region.evaluator = evaluate_block
        regions.append(region)
    for region in markers(document):
        line = document.text.count("\n", 0, region.start) + 1
        match = MARKER_ARGS.match(str(region.lexemes["arguments"]))
        if match is None:
            raise DocsError(
                f"{relative(path)}:{line}: unknown docs-test marker "
                f"{region.lexemes['arguments']!r} (skip REASON, provider, offline, postgres, "
                "temporal, otlp, background until TEXT, interrupt SIGNAL when TEXT)"
            )
        region.parsed = Marker(match["name"], match["reason"], line)
        region.evaluator = evaluate_marker
        regions.append(region)
    end = -1
    for region in sorted(regions, key=lambda r: (r.start, -r.end)):
        if region.start >= end:
            document.add(region)
            end = region.end
    return document


def code_examples(document: Document) -> list[Example]:
    """The examples a test is made for: visible blocks that are code (not output, not markers)."""
    return [
        example
        for example in document.examples()
        if isinstance(example.region.parsed, Block)
        and example.region.parsed.kind is not None
        and not example.region.parsed.hidden
    ]


def relative(path: Path | str) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# --- a page while it runs -------------------------------------------------------------------------


@dataclass
class Page:
    """A page's run: its scratch folder, Python namespace, event loop and markers in force."""

    path: Path
    folder: Path
    services: Services
    module: types.ModuleType = field(init=False)
    loop: asyncio.AbstractEventLoop = field(init=False)
    skip_next: Marker | None = None
    background_next: Marker | None = None  # the next shell block runs until the page ends
    interrupt_next: Marker | None = None  # the next shell block's first command is interrupted
    provider: bool = False
    postgres_url: str | None = None
    #: What the page's blocks name and the test session provides instead (postgres, temporal, otlp).
    substitutions: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)
    done: int = 0  # examples evaluated so far
    failed_at: str | None = None  # the last block that failed

    def __post_init__(self) -> None:
        (self.folder / "home").mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "examples", self.folder / "examples", dirs_exist_ok=True)
        name = "docs_page_" + re.sub(r"\W", "_", relative(self.path))
        self.module = types.ModuleType(name)
        self.module.__file__ = str(self.folder / "page.py")
        self.loop = asyncio.new_event_loop()

    @property
    def name(self) -> str:
        return relative(self.path)

    def env(self) -> dict[str, str]:
        """The environment of the page's commands and Python blocks (changes it makes to it)."""
        env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        # a home of its own: a page may write the reader's files (~/.config/agentorch/...)
        env["HOME"] = str(self.folder / "home")
        if self.provider:
            env.update(self.services.provider_env())
        return env

    def close(self) -> None:
        for command in self.background:
            command.stop()
        loop = self.loop
        if not loop.is_closed():
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
        sys.modules.pop(self.module.__name__, None)
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", "") or "").startswith(str(self.folder)):
                del sys.modules[name]


class Services:
    """What pages may ask for, started once per session on first use."""

    def __init__(self, getfixturevalue: Callable[[str], Any]) -> None:
        self.getfixturevalue = getfixturevalue
        self._provider: Any = None
        self._temporal: TemporalServer | None = None
        self._otlp: OtlpReceiver | None = None

    @property
    def provider(self) -> Any:
        """The local OpenAI/Anthropic-compatible server (``requests`` lists what it was sent)."""
        self.provider_env()
        return self._provider

    def temporal_address(self) -> str:
        if self._temporal is None:
            self._temporal = TemporalServer().start()
        return self._temporal.address

    @property
    def otlp(self) -> OtlpReceiver:
        if self._otlp is None:
            self._otlp = OtlpReceiver().start()
        return self._otlp

    def provider_env(self) -> dict[str, str]:
        from docs_provider import ProviderServer  # the local OpenAI/Anthropic-compatible server

        if self._provider is None:
            self._provider = ProviderServer().start()
        return self._provider.env()

    def postgres_url(self) -> str:
        return str(self.getfixturevalue("pg_server").fresh_url("docs"))

    def close(self) -> None:
        if self._provider is not None:
            self._provider.stop()
        if self._temporal is not None:
            self._temporal.stop()
        if self._otlp is not None:
            self._otlp.stop()


def open_page(path: Path, folder: Path, services: Services) -> tuple[Page, Document]:
    document = parse_page(path)
    page = Page(path, folder, services)
    document.namespace = page.module.__dict__
    document.namespace["__docs_page__"] = page
    return page, document


def run_until(page: Page, document: Document, line: int) -> None:
    """Evaluate the page's examples up to the block at ``line`` (earlier ones first, once each);
    the page's last block also runs the hidden blocks after it (checks of what it left)."""
    examples = list(document.examples())
    if line == max(example.region.parsed.line for example in code_examples(document)):
        line = sys.maxsize
    for example in examples[page.done :]:
        parsed = example.region.parsed
        if isinstance(parsed, Block | Marker) and parsed.line > line:
            break
        page.done += 1
        try:
            example.evaluate()
        except DocsError as exc:
            earlier, page.failed_at = page.failed_at, f"{page.name}:{parsed.line}"
            if earlier is not None:
                raise DocsError(
                    f"{exc}\n(an earlier block of this page failed: {earlier})"
                ) from None
            raise


def evaluate_marker(example: Example) -> None:
    page: Page = example.namespace["__docs_page__"]
    marker: Marker = example.region.parsed
    where = f"{page.name}:{marker.line}"
    if marker.name == "skip":
        if not marker.reason:
            raise DocsError(f"{where}: 'docs-test: skip' needs a reason")
        page.skip_next = marker
    elif marker.name == "provider":
        page.provider = True
    elif marker.name == "offline":
        page.provider = False
    elif marker.name == "postgres" and page.postgres_url is None:
        page.postgres_url = page.services.postgres_url()
        page.substitutions.append((re.compile(r"postgres(?:ql)?://[^\s\"'`]+"), page.postgres_url))
    elif marker.name == "temporal":
        address = page.services.temporal_address()
        page.substitutions.append((TEMPORAL_ADDRESS, address))
    elif marker.name == "otlp":
        page.substitutions.append((OTLP_URL, page.services.otlp.url))
    elif marker.name == "background":
        if not marker.reason.startswith("until "):
            raise DocsError(f"{where}: write 'docs-test: background until TEXT'")
        page.background_next = marker
    elif marker.name == "interrupt":
        if INTERRUPT_ARGS.match(marker.reason) is None:
            raise DocsError(f"{where}: write 'docs-test: interrupt KILL|INT|TERM when TEXT'")
        page.interrupt_next = marker


def evaluate_block(example: Example) -> None:
    page: Page = example.namespace["__docs_page__"]
    block: Block = example.region.parsed
    if block.kind is None:  # output, or a language not run
        return
    where = f"{page.name}:{block.line}"
    skip, page.skip_next = page.skip_next, None
    background, page.background_next = page.background_next, None
    interrupt, page.interrupt_next = page.interrupt_next, None
    source = block.source
    for pattern, replacement in page.substitutions:
        source = pattern.sub(replacement, source)
    check_statically(block, source, where)
    if skip is not None or block.kind == CONSOLE:
        return
    if (background or interrupt) and block.kind != SHELL:
        raise DocsError(f"{where}: 'background' and 'interrupt' apply to shell blocks only")
    if block.kind == SHELL and installs_packages(source):
        raise DocsError(
            f"{where}: installs packages (never in the test run): mark it "
            "<!-- docs-test: skip REASON --> (its extras are still checked)"
        )
    if block.file is not None:
        write_file(page, block.file, source, where)
    elif block.kind == PYTHON:
        run_python(page, source, block.line, where)
    elif block.kind == SHELL and background is not None:
        run_in_background(page, source, block.line, where, background.reason.removeprefix("until "))
    elif block.kind == SHELL and interrupt is not None:
        run_interrupted(page, source, block.line, where, interrupt.reason)
    elif block.kind == SHELL:
        run_shell(page, source, block.line, where)


# --- checks every block gets, run or not ----------------------------------------------------------


def check_statically(block: Block, source: str, where: str) -> None:
    if block.kind == PYTHON:
        try:
            code = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as exc:
            raise DocsError(f"{where}: not valid Python: {exc}") from None
        del code
        check_imports(source, where)
    elif block.kind == SHELL:
        check_shell(source, where)
    elif block.kind == CONFIG and block.file is None:
        check_config(block.language, source, where)
    elif block.kind == CONSOLE:  # a session shown with its output: its `$ ` commands are checked
        prompts = [line[2:] for line in source.splitlines() if line.startswith("$ ")]
        check_shell("\n".join(prompts), where)


# --- running --------------------------------------------------------------------------------------


def write_file(page: Page, name: str, source: str, where: str) -> None:
    target = (page.folder / name).resolve()
    if not target.is_relative_to(page.folder.resolve()):
        raise DocsError(f"{where}: {name} is outside the page's folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")


def run_python(page: Page, source: str, line: int, where: str) -> None:
    """Run in the page's namespace, in its folder; top-level ``await`` runs on the page's loop."""
    padded = "\n" * (line - 1) + source  # tracebacks point at the page's own lines
    code = compile(
        padded, str(page.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    namespace = page.module.__dict__
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    saved_env = {key: os.environ.get(key) for key in page.env()}
    sys.modules[page.module.__name__] = page.module
    os.environ.update(page.env())
    os.chdir(page.folder)
    sys.path.insert(0, str(page.folder))
    try:
        result = eval(code, namespace)
        if inspect.iscoroutine(result):
            page.loop.run_until_complete(result)
    except Exception as exc:
        frames = traceback.format_exception(exc)
        raise DocsError(f"{where}: the Python block failed:\n{''.join(frames)}") from None
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


PREAMBLE = textwrap.dedent(
    """\
    set -eo pipefail
    __newest_run() { "$DOCS_PYTHON" "$DOCS_RUN_ID" "$@"; }
    __expect() { if [ "$1" -ne "$2" ]; then echo "line $3: exit code $1, the page says $2" >&2; exit 97; fi; }
    trap 'echo "line $((LINENO - __OFFSET)): exit code $?" >&2' ERR
    """
)


def shell_script(source: str, line: int) -> str:
    """The block as bash runs it: same line numbers, ``# exit N`` checked, RUN_ID resolved."""
    lines = source.splitlines()
    for first, last, text in logical_lines(source):
        if "RUN_ID" in text:
            words = [Path(word).name for word in text.split()]
            at = words.index("agentorch") if "agentorch" in words else -1
            verb = words[at + 1] if 0 <= at < len(words) - 1 else ""
            for i in range(first, last + 1):
                lines[i] = re.sub(r"\bRUN_ID\b", f'"$(__newest_run {verb or "-"})"', lines[i])
        match = EXIT_COMMENT.search(lines[last])
        if match and not lines[last].lstrip().startswith("#"):
            check = f" || __rc=$?; __expect $__rc {match['code']} {line + last}"
            lines[last] = lines[last][: match.start()] + check
            lines[first] = "__rc=0; " + lines[first]
    offset = PREAMBLE.count("\n") + 2 - line  # LINENO of the block's first line is the page's
    return PREAMBLE + f"__OFFSET={offset}\n" + "\n".join(lines) + "\n"


def shell_env(page: Page) -> dict[str, str]:
    env = {**os.environ, **page.env(), **OFFLINE, "DOCS_PYTHON": sys.executable}
    env["DOCS_RUN_ID"] = str(Path(__file__).with_name("docs_run_id.py"))
    env.pop("AGENTORCH_STORE", None)
    return env


def private_servers(source: str) -> str:
    """A ``temporal server start-dev`` of a page listens on a free loopback port, with no web UI
    (never the reader's 7233, which another test session may be using); the page's
    ``temporal`` marker points its other blocks at the session's server."""
    return START_DEV.sub(
        lambda m: f"{m[1].rstrip()} {' '.join(loopback_options(free_port()))}", source
    )


def run_in_background(page: Page, source: str, line: int, where: str, ready: str) -> None:
    """The block's first command is left running until the page ends, once its output says
    ``ready``; the rest of the block then runs as usual."""
    head, rest = first_command(source)
    log = page.folder / f".background-{line}.log"
    script = shell_script(private_servers(head), line)
    command = Background(script, page.folder, shell_env(page), log)
    page.background.append(command)
    if not command.wait_for(ready):
        tail = "\n".join(command.output().strip().splitlines()[-40:])
        state = "ended" if command.proc.poll() is not None else "is still running"
        raise DocsError(
            f"{where}: the background command {state} without printing {ready!r}:\n{tail}"
        )
    if rest.strip():
        run_shell(page, rest, line, where)


def first_command(source: str) -> tuple[str, str]:
    """The block's first command, and the rest with its line numbers kept (blank lines first)."""
    _, last, _ = next(logical_lines(source))
    lines = source.splitlines()
    return "\n".join(lines[: last + 1]), "\n" * (last + 1) + "\n".join(lines[last + 1 :])


def run_interrupted(page: Page, source: str, line: int, where: str, how: str) -> None:
    """The block's first command is stopped by a signal once its output shows ``TEXT``; the rest
    of the block then runs as usual (to resume what was stopped)."""
    match = INTERRUPT_ARGS.match(how)
    assert match is not None  # checked with the marker
    head, rest = first_command(source)
    log = page.folder / f".interrupted-{line}.log"
    command = Background(shell_script(head, line), page.folder, shell_env(page), log)
    try:
        if not command.wait_for(match["text"]) or command.proc.poll() is not None:
            tail = "\n".join(command.output().strip().splitlines()[-40:])
            raise DocsError(
                f"{where}: the command ended before it printed {match['text']!r}, so it could "
                f"not be interrupted:\n{tail}"
            )
        signum = getattr(signal, f"SIG{match['signal']}")
        command.signal(signum)
        code = command.proc.wait(timeout=120)
        if code not in (-signum, 128 + signum, 130):  # 130: a clean stop on Ctrl-C
            tail = "\n".join(command.output().strip().splitlines()[-20:])
            raise DocsError(
                f"{where}: the command was not stopped by SIG{match['signal']} (exit code "
                f"{code}: it had finished first):\n{tail}"
            )
    finally:
        command.stop()
    if rest.strip():
        run_shell(page, rest, line, where)


def run_shell(page: Page, source: str, line: int, where: str) -> None:
    env = shell_env(page)
    script = shell_script(private_servers(source), line)
    run = subprocess.run(
        ["bash", "-c", script],
        cwd=page.folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SHELL_TIMEOUT,
    )
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-40:])
        raise DocsError(f"{where}: the shell block failed (exit code {run.returncode}):\n{tail}")
