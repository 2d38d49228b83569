"""write_file stays inside the output folder; submit_response files one receipted submission."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tools_helpers import make_ctx, tools_module

from agentorch.errors import ModelRetry, ToolError

files = tools_module("files")


@pytest.fixture
def ctx(tmp_path: Path):
    return make_ctx(output_dir=str(tmp_path / "out"))


async def write(ctx, path: str, content: str = "text") -> str:
    return await files.write_file.invoke({"path": path, "content": content}, ctx)


def test_tool_metadata() -> None:
    assert files.write_file.risk == "write" and not files.write_file.requires_approval
    submit = files.submit_response.risk, files.submit_response.requires_approval
    assert submit == ("external", True)
    assert files.submit_response.idempotent is False
    assert set(files.submit_response.schema().parameters["properties"]) == {
        "path",
        "recipient",
        "accept_gaps",
    }


async def test_write_file_writes_inside_the_output_folder(ctx, tmp_path: Path) -> None:
    written = await write(ctx, "drafts/response.md", "# Response\n\nCaf\u00e9 \u2014 ok\n")
    target = tmp_path / "out" / "drafts" / "response.md"
    assert Path(written) == target
    assert target.read_text(encoding="utf-8") == "# Response\n\nCaf\u00e9 \u2014 ok\n"
    await write(ctx, "drafts/response.md", "v2")  # replaces, leaves no temp files behind
    assert target.read_text() == "v2"
    assert [p.name for p in target.parent.iterdir()] == ["response.md"]
    assert Path(await write(ctx, "./a/../b.md")) == tmp_path / "out" / "b.md"


@pytest.mark.parametrize("path", ["../escape.md", "drafts/../../escape.md", "", "  "])
async def test_write_file_refuses_paths_outside_the_output_folder(
    ctx, tmp_path: Path, path: str
) -> None:
    with pytest.raises(ModelRetry, match="refused"):
        await write(ctx, path)
    assert not (tmp_path / "escape.md").exists()


async def test_write_file_refuses_a_symlink_out(ctx, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ModelRetry, match="outside the output folder"):
        await write(ctx, "link/x.md")


async def test_write_file_absolute_path_outside_the_output_folder_is_refused(
    ctx, tmp_path: Path
) -> None:
    target = tmp_path / "shared" / "final.md"
    with pytest.raises(ModelRetry, match="outside the output folder"):
        await write(ctx, str(target), "approved elsewhere")
    assert not target.exists()
    inside = tmp_path / "out" / "final.md"  # an absolute path inside the folder is fine
    assert Path(await write(ctx, str(inside), "ok")) == inside
    assert inside.read_text() == "ok"


async def test_a_path_outside_is_refused_before_approval_even_under_approve_all(
    tmp_path: Path,
) -> None:
    """The refusal comes from the tool itself: no approval is asked, none can let it through."""
    from agentorch import (
        Agent,
        ApproveAll,
        Budget,
        Plan,
        Policy,
        ScriptedModel,
        Step,
        Supervisor,
    )
    from agentorch.models.testing import tool_call_response
    from agentorch.models.types import ToolResultMessage

    outside = tmp_path / "elsewhere" / "x.md"
    model = ScriptedModel(
        [
            tool_call_response(("write_file", {"path": str(outside), "content": "leak"})),
            tool_call_response(("write_file", {"path": "../x.md", "content": "leak"})),
            "done",
        ]
    )

    class Writer(Agent):
        name = "writer"
        description = "Writes files."
        tools = ["write_file"]

    asked: list[object] = []
    approver = ApproveAll()
    original = approver.decide

    async def decide(request):  # type: ignore[no-untyped-def]
        asked.append(request)
        return await original(request)

    approver.decide = decide  # type: ignore[method-assign]
    supervisor = Supervisor(
        [Writer(model=model)],
        tools=[files.write_file],
        budget=Budget(allow_unpriced=True),
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="write")], final_step="w"),
        approver=approver,
        policy=Policy.from_dict(
            {
                "version": 1,
                "agents": {
                    "writer": {
                        "allow": ["write_file"],
                        "require_approval": {"tools": ["write_file"]},
                    }
                },
            }
        ),
    )
    result = await supervisor.run("write", state={"output_dir": str(tmp_path / "out")})
    assert result.status == "succeeded", result.error
    assert asked == []
    assert not outside.exists() and not (tmp_path / "x.md").exists()
    for index in (1, 2):
        reply = [m for m in model.requests[index].messages if isinstance(m, ToolResultMessage)]
        assert reply[-1].is_error and "outside the output folder" in reply[-1].content


async def test_write_file_default_output_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = await files.write_file.invoke({"path": "r.md", "content": "x"}, make_ctx())
    assert Path(written) == Path("out", "r.md")
    assert (tmp_path / "out" / "r.md").read_text() == "x"


async def test_write_file_refuses_a_folder_and_huge_content(ctx, tmp_path: Path) -> None:
    (tmp_path / "out" / "dir").mkdir(parents=True)
    with pytest.raises(ModelRetry, match="is a folder"):
        await write(ctx, "dir")
    with pytest.raises(ModelRetry, match="the limit is"):
        await write(ctx, "big.md", "x" * (files.MAX_BYTES + 1))


async def test_a_large_file_is_written_in_parts_and_appears_whole(ctx, tmp_path: Path) -> None:
    """Parts are staged; the file appears, whole, only with its last part; nothing stays behind."""
    out = tmp_path / "out"
    (out / "response.md").parent.mkdir(parents=True)
    (out / "response.md").write_text("old")

    async def part(k: int, text: str, parts: int = 3) -> str:
        arguments = {"path": "response.md", "content": text, "part": k, "parts": parts}
        return await files.write_file.invoke(arguments, ctx)

    assert "staged" in await part(1, "one\n")
    assert "staged" in await part(2, "två\n")
    assert (out / "response.md").read_text() == "old"  # readers never see a partial file
    assert Path(await part(3, "three\n")) == out / "response.md"
    assert (out / "response.md").read_text(encoding="utf-8") == "one\ntvå\nthree\n"
    assert sorted(p.name for p in out.iterdir()) == ["response.md"]
    # the last part again (a journaled call run twice after a crash) changes nothing
    assert Path(await part(3, "three\n")) == out / "response.md"
    assert (out / "response.md").read_text(encoding="utf-8") == "one\ntvå\nthree\n"
    # a part out of order, or out of range, is refused and the file kept
    with pytest.raises(ModelRetry, match=r"part 1 of 3 of response\.md was not written first"):
        await part(2, "x")
    for k, n in ((0, 3), (4, 3), (1, files.MAX_PARTS + 1)):
        with pytest.raises(ModelRetry, match="refused: part"):
            await part(k, "x", n)
    await part(1, "new 1\n")  # part 1 starts the file over
    await part(2, "new 2\n")
    await part(3, "new 3\n")
    assert (out / "response.md").read_text() == "new 1\nnew 2\nnew 3\n"
    assert sorted(p.name for p in out.iterdir()) == ["response.md"]


@pytest.mark.parametrize(
    "path",
    [
        ".parts/run-test/response.md/00002-of-00003",
        ".parts",
        "./drafts/../.parts/x.md",
        ".Parts/run-test/response.md/00002-of-00003",
    ],
)
async def test_a_path_in_the_parts_staging_folder_is_refused(
    ctx, tmp_path: Path, path: str
) -> None:
    """A model cannot overwrite (or plant) a staged part: the file it joins stays what was sent."""
    out = tmp_path / "out"

    async def part(k: int, text: str) -> str:
        arguments = {"path": "response.md", "content": text, "part": k, "parts": 3}
        return await files.write_file.invoke(arguments, ctx)

    await part(1, "one\n")
    with pytest.raises(ModelRetry, match=r"is in \.parts/, where write_file stages the parts"):
        await write(ctx, path, "forged")
    absolute = str(out / ".parts" / "run-test" / "response.md" / "00002-of-00003")
    with pytest.raises(ModelRetry, match=r"\.parts/"):
        await write(ctx, absolute, "forged")
    await part(2, "two\n")
    await part(3, "three\n")
    assert (out / "response.md").read_text() == "one\ntwo\nthree\n"
    assert sorted(p.name for p in out.iterdir()) == ["response.md"]
    assert await write(ctx, "drafts/.parts.md", "fine")  # only the folder itself is reserved


async def test_a_model_writing_into_the_staging_folder_gets_a_tool_error(tmp_path: Path) -> None:
    from agentorch import Agent, ApproveAll, Budget, Plan, ScriptedModel, Step, Supervisor
    from agentorch.models.testing import tool_call_response
    from agentorch.models.types import ToolResultMessage

    forged = {"path": ".parts/run/response.md/00001-of-00002", "content": "forged"}
    model = ScriptedModel([tool_call_response(("write_file", forged)), "done"])

    class Writer(Agent):
        name = "writer"
        description = "Writes files."
        tools = ["write_file"]

    supervisor = Supervisor(
        [Writer(model=model)],
        tools=[files.write_file],
        budget=Budget(allow_unpriced=True),
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="write")], final_step="w"),
        approver=ApproveAll(),
    )
    result = await supervisor.run("write", state={"output_dir": str(tmp_path / "out")})
    assert result.status == "succeeded", result.error
    reply = [m for m in model.requests[1].messages if isinstance(m, ToolResultMessage)][-1]
    assert reply.is_error and "where write_file stages the parts" in reply.content
    assert "Traceback" not in reply.content
    assert not (tmp_path / "out" / ".parts").exists()


async def test_submit_response_files_a_receipt(ctx, tmp_path: Path) -> None:
    await write(ctx, "response.md", "# Our response\n")
    receipt = await files.submit_response.invoke(
        {"path": "response.md", "recipient": " bids.riverton.gov  portal "}, ctx
    )
    outbox = tmp_path / "out" / "submissions"  # inside the output folder: nothing written beside it
    assert receipt["status"] == "submitted"
    assert receipt["recipient"] == "bids.riverton.gov portal"
    assert receipt["receipt_id"].startswith("SUB-")
    assert receipt["run_id"] == "run-test"
    assert Path(receipt["submitted_copy"]).read_text() == "# Our response\n"
    assert Path(receipt["submitted_copy"]).parent == outbox
    assert json.loads(Path(receipt["receipt_file"]).read_text()) == receipt
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        [f"{receipt['receipt_id']}.json", f"{receipt['receipt_id']}-response.md"]
    )


async def test_receipt_id_depends_on_content_and_recipient(tmp_path: Path) -> None:
    ids = set()
    for n, (content, recipient) in enumerate([("a", "x"), ("a", "y"), ("b", "x")]):
        ctx = make_ctx(output_dir=str(tmp_path / f"out{n}"), outbox_dir=str(tmp_path / "box"))
        await write(ctx, "r.md", content)
        receipt = await files.submit_response.invoke({"path": "r.md", "recipient": recipient}, ctx)
        ids.add(receipt["receipt_id"])
    assert len(ids) == 3


async def test_submitting_the_same_document_twice_is_refused(ctx, tmp_path: Path) -> None:
    await write(ctx, "response.md", "final")
    args = {"path": "response.md", "recipient": "procurement@riverton.gov"}
    first = await files.submit_response.invoke(args, ctx)
    with pytest.raises(ToolError, match="already submitted") as info:
        await files.submit_response.invoke(args, ctx)
    assert info.value.kind == "duplicate"
    assert info.value.details["receipt_id"] == first["receipt_id"]


async def test_submit_response_bad_arguments(ctx) -> None:
    with pytest.raises(ModelRetry, match="no such document"):
        await files.submit_response.invoke({"path": "missing.md", "recipient": "x"}, ctx)
    await write(ctx, "r.md")
    with pytest.raises(ModelRetry, match="recipient"):
        await files.submit_response.invoke({"path": "r.md", "recipient": "   "}, ctx)
    with pytest.raises(ModelRetry, match="outside the output folder"):
        await files.submit_response.invoke({"path": "../r.md", "recipient": "x"}, ctx)


@pytest.mark.parametrize(
    "path",
    [
        "submissions/SUB-000000000000.json",
        "submissions",
        "./drafts/../submissions/SUB-000000000000-response.md",
        "Submissions/receipt.json",
    ],
)
async def test_a_path_in_the_submissions_outbox_is_refused(ctx, tmp_path: Path, path: str) -> None:
    """Only submit_response files in the outbox: a model cannot forge a receipt or a submitted copy."""
    out = tmp_path / "out"
    with pytest.raises(
        ModelRetry, match="is in the submissions outbox, where only submit_response"
    ):
        await write(ctx, path, "forged")
    with pytest.raises(ModelRetry, match="submissions outbox"):
        await write(ctx, str(out / "submissions" / "receipt.json"), "forged")
    assert not (out / "submissions").exists()
    assert await write(ctx, "drafts/submissions/notes.md", "fine")  # only the outbox is reserved
    await write(ctx, "response.md", "final")
    receipt = await files.submit_response.invoke(
        {"path": "response.md", "recipient": "procurement@riverton.gov"}, ctx
    )
    assert Path(receipt["submitted_copy"]).read_text() == "final"


async def test_a_configured_outbox_inside_the_output_folder_is_refused_too(tmp_path: Path) -> None:
    ctx = make_ctx(output_dir=str(tmp_path / "out"), outbox_dir=str(tmp_path / "out" / "sent"))
    with pytest.raises(ModelRetry, match="submissions outbox"):
        await write(ctx, "sent/receipt.json", "forged")
    assert await write(ctx, "submissions/notes.md", "not the outbox here")
