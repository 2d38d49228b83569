"""Tables in Markdown as real documents write them: pipe tables without outer pipes, Pandoc's."""

from __future__ import annotations

from agentorch.documents import find_requirements, text_blocks
from agentorch.documents._blocks import render


def test_pipe_table_without_outer_pipes() -> None:
    text = "Deliverable | Due Date\n--- | ---\nStatus report | Monthly\n"
    assert render(text_blocks(text)) == "Deliverable | Due Date\nStatus report | Monthly\n"


def test_pandoc_simple_table_is_read_by_its_columns() -> None:
    text = (
        "## 5.6 Deliverables\n\n"
        "  DELIVERABLE        DUE DATES                 DESCRIPTION\n"
        "  ------------------ ------------------------- --------------------\n"
        "  Status Reports     1 day after each sprint   Progress so far\n"
        "  Transition plan    End of task order         See Section 5\n\n"
        "The Contractor shall deliver on time.\n"
    )
    found = find_requirements(text_blocks(text)).requirements
    assert [(r.id, r.text, r.due) for r in found] == [
        ("R-5.6.a", "Status Reports - 1 day after each sprint", "1 day after each sprint"),
        ("R-5.6.b", "Transition plan - End of task order", "End of task order"),
        ("R-5.6.c", "The Contractor shall deliver on time.", ""),
    ]
