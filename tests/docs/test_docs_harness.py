"""The docs harness itself: what it runs, what it checks, and that a failure names page and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_harness import DocsError, Services, code_examples, open_page, run_until
from pg_fixture import pg_server  # noqa: F401  (fixture: started only by the postgres test)

FENCE = "```"


@pytest.fixture
def run_page(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    services = Services(request.getfixturevalue)
    opened = []

    def run(text: str) -> Path:
        page_path = tmp_path / "page.md"
        page_path.write_text(text.replace("~~~", FENCE), encoding="utf-8")
        page, document = open_page(page_path, tmp_path / "work", services)
        opened.append(page)
        for example in code_examples(document):
            run_until(page, document, example.region.parsed.line)
        return page.folder

    yield run
    for page in opened:
        page.close()
    services.close()


def test_python_blocks_continue_each_other_and_may_await(run_page) -> None:
    folder = run_page(
        "~~~python\nimport asyncio\nfrom pathlib import Path\nx = 2\n~~~\n\ntext\n\n"
        "~~~python\nawait asyncio.sleep(0)\nPath('x.txt').write_text(str(x * 21))\n~~~\n"
    )
    assert (folder / "x.txt").read_text() == "42"


def test_file_blocks_are_written_and_shell_blocks_use_them(run_page) -> None:
    folder = run_page(
        "~~~toml\n# conf/settings.toml\nname = 'demo'\n~~~\n\n"
        "~~~bash\ntest -f conf/settings.toml && echo ok > seen.txt\n~~~\n"
    )
    assert (folder / "seen.txt").read_text() == "ok\n"


def test_an_exit_comment_is_the_expected_exit_code(run_page) -> None:
    run_page("~~~bash\nbash -c 'exit 6'   # exit 6: not submitted\ntrue\n~~~\n")
    with pytest.raises(DocsError, match=r"page\.md:2: (.|\n)*exit code 3, the page says 6"):
        run_page("~~~bash\nbash -c 'exit 3'   # exit 6: not submitted\n~~~\n")


def test_a_failing_block_names_page_and_line(run_page) -> None:
    with pytest.raises(DocsError, match=r"page.md:4: the Python block failed:(.|\n)*ZeroDivision"):
        run_page("# Title\n\n~~~python\n1 / 0\n~~~\n")
    with pytest.raises(DocsError, match=r"page.md:5: the shell block failed(.|\n)*line 6: exit"):
        run_page("# T\n\ntext\n~~~bash\ntrue\nfalse\n~~~\n")


def test_output_blocks_are_not_run(run_page) -> None:
    run_page("~~~text\n$ rm -rf /\n~~~\n\n~~~json\n{not json, ...}\n~~~\n\n~~~\nplain\n~~~\n")


def test_a_skipped_block_is_still_checked(run_page) -> None:
    run_page(
        "<!-- docs-test: skip installs from PyPI -->\n\n~~~bash\npip install 'agentorch[postgres]'\n~~~\n"
    )
    with pytest.raises(DocsError, match="no extra 'postgress'"):
        run_page("<!-- docs-test: skip x -->\n\n~~~bash\npip install 'agentorch[postgress]'\n~~~\n")
    with pytest.raises(DocsError, match="'agentorch run' has no option --aprove-all"):
        run_page(
            "<!-- docs-test: skip x -->\n\n~~~bash\nagentorch run examples/rfp --aprove-all\n~~~\n"
        )
    with pytest.raises(DocsError, match="'agentorch' has no command 'rnu'"):
        run_page("<!-- docs-test: skip x -->\n\n~~~sh\nagentorch rnu examples/rfp\n~~~\n")
    with pytest.raises(DocsError, match=r"agentorch\.store has no 'SQLightStore'"):
        run_page(
            "<!-- docs-test: skip x -->\n\n~~~python\nfrom agentorch.store import SQLightStore\n~~~\n"
        )
    with pytest.raises(DocsError, match="not valid Python"):
        run_page("<!-- docs-test: skip x -->\n\n~~~python\ndef broken(:\n~~~\n")


def test_a_block_that_installs_packages_must_be_skipped(run_page) -> None:
    with pytest.raises(DocsError, match="installs packages"):
        run_page("~~~bash\npip install 'agentorch[postgres]'\n~~~\n")


def test_after_the_provider_marker_examples_call_a_local_provider(run_page) -> None:
    folder = run_page(
        "~~~python\nimport os\nassert 'OPENAI_API_KEY' not in os.environ\n~~~\n\n"
        "<!-- docs-test: provider -->\n\n"
        "~~~python\nfrom pathlib import Path\n"
        "from agentorch.models import ModelRequest, UserMessage, infer_model\n"
        "from agentorch.models.wrappers import close_model\n"
        "model = infer_model('openai:gpt-4.1-mini')\n"
        "request = ModelRequest(messages=(UserMessage(content='Hi'),))\n"
        "Path('answer.txt').write_text((await model.request(request)).text)\n"
        "await close_model(model)\n~~~\n"
    )
    assert (folder / "answer.txt").read_text() == "This answer comes from the local test model."


@pytest.mark.postgres
def test_after_the_postgres_marker_urls_name_the_test_server(run_page) -> None:
    folder = run_page(
        "<!-- docs-test: postgres -->\n\n"
        "~~~python\nfrom pathlib import Path\nfrom agentorch import open_store\n"
        "store = open_store('postgresql://agentorch:secret@db.internal:5432/agents')\n"
        "Path('runs.txt').write_text(str(store.list_runs()))\nstore.close()\n~~~\n"
    )
    assert (folder / "runs.txt").read_text() == "[]"


def test_console_sessions_are_checked_not_run(run_page) -> None:
    run_page("~~~console\n$ pip install 'agentorch[otel]'\nInstalled.\n$ agentorch runs\n~~~\n")
    with pytest.raises(DocsError, match="has no option --colour"):
        run_page("~~~console\n$ agentorch runs --colour\nNo runs yet.\n~~~\n")


def test_markers_need_a_reason_and_a_known_name(run_page) -> None:
    with pytest.raises(DocsError, match="needs a reason"):
        run_page("<!-- docs-test: skip -->\n\n~~~bash\ntrue\n~~~\n")
    with pytest.raises(DocsError, match="unknown docs-test marker"):
        run_page("<!-- docs-test: skpi because -->\n\n~~~bash\ntrue\n~~~\n")


def test_config_blocks_must_parse(run_page) -> None:
    with pytest.raises(DocsError, match=r"page\.md:2: the toml does not parse"):
        run_page("~~~toml\n[agents\n~~~\n")


def test_run_id_is_the_newest_run(run_page) -> None:
    folder = run_page(
        "~~~python\nfrom agentorch import open_store\nfrom agentorch.store import RunRecord\n"
        "store = open_store('sqlite:///runs.db')\n"
        "store.create_run(RunRecord(run_id='abc123def456', task='t'))\nstore.close()\n~~~\n\n"
        "~~~bash\necho RUN_ID > id.txt\n~~~\n"
    )
    assert (folder / "id.txt").read_text() == "abc123def456\n"


def test_run_id_is_the_newest_run_the_command_can_act_on(run_page) -> None:
    folder = run_page(
        "~~~python\nfrom agentorch import open_store\nfrom agentorch.store import RunRecord\n"
        "store = open_store('sqlite:///runs.db')\n"
        "store.create_run(RunRecord(run_id='aaa000000001', task='t', status='interrupted'))\n"
        "store.create_run(RunRecord(run_id='bbb000000002', task='t', status='succeeded'))\n"
        "store.close()\n~~~\n\n"
        "~~~bash\necho agentorch resume RUN_ID > resume.txt\necho agentorch show RUN_ID > show.txt\n~~~\n"
    )
    assert (folder / "resume.txt").read_text() == "agentorch resume aaa000000001\n"
    assert (folder / "show.txt").read_text() == "agentorch show bbb000000002\n"


def test_hidden_shell_blocks_run_before_the_next_visible_block(run_page) -> None:
    folder = run_page(
        "<!-- invisible-code-block: bash\necho set up > setup.txt\n-->\n\n"
        "~~~bash\ntest -f setup.txt\n~~~\n"
    )
    assert (folder / "setup.txt").read_text() == "set up\n"


def test_hidden_blocks_after_the_last_visible_one_run_with_it(run_page) -> None:
    folder = run_page(
        "~~~bash\necho ran > a.txt\n~~~\n\n<!-- invisible-code-block: bash\ncp a.txt b.txt\n-->\n"
    )
    assert (folder / "b.txt").read_text() == "ran\n"
    with pytest.raises(DocsError, match="shell block failed"):
        run_page("~~~bash\ntrue\n~~~\n\n<!-- invisible-code-block: bash\nfalse\n-->\n")


def test_an_interrupted_command_is_stopped_in_flight_then_the_block_goes_on(run_page) -> None:
    folder = run_page(
        "<!-- docs-test: interrupt KILL when started -->\n"
        "~~~bash\necho started; sleep 60; echo finished > finished.txt\necho after > after.txt\n~~~\n"
    )
    assert (folder / "after.txt").read_text() == "after\n"
    assert not (folder / "finished.txt").exists()
    with pytest.raises(DocsError, match="ended before it printed 'started'"):
        run_page("<!-- docs-test: interrupt INT when started -->\n~~~bash\ntrue\n~~~\n")


def test_a_background_command_runs_until_the_page_ends(run_page) -> None:
    folder = run_page(
        "<!-- docs-test: background until ready -->\n"
        "~~~bash\necho ready; while true; do sleep 0.1; done\necho next > next.txt\n~~~\n"
    )
    assert (folder / "next.txt").read_text() == "next\n"
    with pytest.raises(DocsError, match="the background command ended without printing 'ready'"):
        run_page("<!-- docs-test: background until ready -->\n~~~bash\ntrue\n~~~\n")


def test_after_the_otlp_marker_the_collector_is_a_local_receiver(run_page) -> None:
    run_page(
        "<!-- docs-test: otlp -->\n"
        "~~~python\nfrom agentorch.events import configure_otlp\n"
        "provider = configure_otlp('http://localhost:4318', service_name='docs')\n"
        "with provider.get_tracer('t').start_as_current_span('hello'):\n    pass\n"
        "provider.shutdown()\n~~~\n\n"
        "<!-- invisible-code-block: python\n"
        "assert __docs_page__.services.otlp.spans(service='docs') == ['hello']\n-->\n\n"
        "~~~python\npass\n~~~\n"
    )
