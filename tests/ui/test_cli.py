"""The ``rag`` command, driven in-process with typer's CliRunner over real stores.

Read-only commands run against the session's ``bundled`` data directory; ingest runs
in fresh temp directories. Each command builds its own Settings (from RAG_HOME) and its
own services, as it does for a user.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from rag.service import Services
from ui.cli import app
from ui.render.table import COLUMNS

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
BUNDLED_COUNTS = {SEP: 13, SWP: 21}

STATEMENT_KEYS = [
    "statement_id",
    "source",
    "title",
    "speaker",
    "organization",
    "author",
    "date",
    "passages",
]
ANSWER_TYPES: dict[str, Any] = {
    "question": str,
    "abstained": bool,
    "answer": str,
    "mode": str,
    "citations": list,
}
CITATION_TYPES: dict[str, Any] = {
    "n": int,
    "statement_id": str,
    "source": str,
    "title": (str, type(None)),
    "speaker": (str, type(None)),
    "author": (str, type(None)),
    "organization": (str, type(None)),
    "date": (str, type(None)),
    "paragraph": int,
    "start": int,
    "end": int,
    "quote": str,
}


def rag(home: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, env={"RAG_HOME": str(home)})


def stderr_lines(result: Result) -> list[str]:
    """stderr without the model-loading progress bar: the CLI silences it before importing
    transformers, but in this process the session's model imported it earlier."""
    return [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("Loading weights")
    ]


def one_error_line(result: Result) -> str:
    """A failed command: non-zero exit, nothing on stdout, one ``error:`` line on stderr."""
    assert result.exit_code not in (0, None), result.output
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def assert_answer_contract(data: dict[str, Any], texts: dict[str, str]) -> None:
    """Exactly the documented keys and types; every quote is ``show --json``'s text[start:end]."""
    extra = {"compare": ["positions", "not_addressed_by"], "timeline": ["timeline"]}
    assert list(data) == list(ANSWER_TYPES) + extra.get(
        str(data["mode"]), ["positions", "not_addressed_by"] if data["mode"] == "positions" else []
    )
    for key, kind in ANSWER_TYPES.items():
        assert isinstance(data[key], kind), key
    for position, citation in enumerate(data["citations"], start=1):
        assert list(citation) == list(CITATION_TYPES)
        for key, kind in CITATION_TYPES.items():
            assert isinstance(citation[key], kind), key
        assert not isinstance(citation["n"], bool) and citation["n"] == position
        text = texts[citation["statement_id"]]
        assert text[citation["start"] : citation["end"]] == citation["quote"]
    # citations in the order they appear in the answer
    markers = [f"[{c['n']}]" for c in data["citations"]]
    positions = [data["answer"].index(m) for m in markers]
    assert positions == sorted(positions)
    if data["abstained"]:
        assert data["citations"] == []


@pytest.fixture(scope="module")
def home(bundled: Services) -> Path:
    """The bundled data directory (read-only for these commands)."""
    return bundled.settings.home


@pytest.fixture(scope="module")
def texts(home: Path) -> dict[str, str]:
    """Each statement's clean text, as ``rag show ID --json`` gives it."""
    result = {}
    for sid in (SEP, SWP):
        shown = rag(home, "show", sid, "--json")
        assert shown.exit_code == 0, shown.output
        result[sid] = json.loads(shown.stdout)["text"]
    return result


# -- ingest / sources / show -----------------------------------------------------------


def test_ingest_twice_then_sources_and_show(tmp_path: Path, bundled: Services) -> None:
    home = tmp_path / "home"
    first = rag(home, "ingest")
    assert first.exit_code == 0, first.output
    for sid, count in BUNDLED_COUNTS.items():
        assert f"new       {sid} ({count} passages)" in first.stdout
    assert "2 new, 0 updated, 0 unchanged, 0 skipped, 0 removed" in first.stdout

    second = rag(home, "ingest")
    assert second.exit_code == 0, second.output
    for sid, count in BUNDLED_COUNTS.items():
        assert f"unchanged {sid} ({count} passages)" in second.stdout
    assert "0 new, 0 updated, 2 unchanged, 0 skipped, 0 removed" in second.stdout

    third = rag(home, "ingest", "--json")
    summary = json.loads(third.stdout)
    assert {k: summary[k] for k in ("new", "updated", "unchanged", "skipped", "removed")} == {
        "new": 0,
        "updated": 0,
        "unchanged": 2,
        "skipped": 0,
        "removed": 0,
    }
    assert summary["passages_written"] == 0
    assert {f["statement_id"]: f["passages"] for f in summary["files"]} == BUNDLED_COUNTS

    sources = rag(home, "sources", "--json")
    assert sources.exit_code == 0
    listed = json.loads(sources.stdout)
    assert [s["statement_id"] for s in listed] == [SEP, SWP]
    for s in listed:
        assert list(s) == STATEMENT_KEYS
        assert isinstance(s["passages"], int) and s["passages"] == BUNDLED_COUNTS[s["statement_id"]]
        assert all(isinstance(s[k], (str, type(None))) for k in STATEMENT_KEYS[:-1])
    swp = next(s for s in listed if s["statement_id"] == SWP)
    assert swp == {
        "statement_id": SWP,
        "source": f"{SWP}.txt",
        "title": "For the immediate, unconditional and total withdrawal of U.S. troops, bases, "
        "weaponry and armaments from Iraq, Syria and the region!",
        "speaker": "Naomi Craine",
        "organization": "Socialist Workers Party",
        "author": "Naomi Craine",
        "date": "2020-01-03",
        "passages": 21,
    }
    sep = next(s for s in listed if s["statement_id"] == SEP)
    assert (sep["title"], sep["author"], sep["date"]) == (None, None, "2004")

    shown = rag(home, "show", SEP, "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert list(data) == [*STATEMENT_KEYS, "text"]
    assert {k: data[k] for k in STATEMENT_KEYS} == sep
    assert data["text"] == bundled.store.statement(SEP).text
    assert data["text"].startswith("These attacks against civilian population centers")
    assert "full story" not in data["text"]

    readable = rag(home, "show", SWP)
    assert readable.exit_code == 0
    swp = "Naomi Craine, Socialist Workers Party, 2020-01-03"
    assert readable.stdout.startswith(f"{swp} — For the immediate")
    assert "He became the leader of the reactionary Revolutionary Guards'" in readable.stdout


def test_ingest_reports_skipped_files_and_exits_3(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text(
        "---\norganization: Test Org\ndate: 2021-05\n---\nWe demand peace. Bring them home.\n",
        encoding="utf-8",
    )
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 64)
    (folder / "empty.txt").write_bytes(b"")
    home = tmp_path / "home"
    result = rag(home, "ingest", str(folder), "--author", "Jane Doe")
    assert result.exit_code == 3, result.output
    assert "new       good (1 passages)" in result.stdout
    assert "1 new, 0 updated, 0 unchanged, 2 skipped, 0 removed" in result.stdout
    skipped = stderr_lines(result)
    assert len(skipped) == 2
    assert any(line.startswith("skipped ") and "binary.txt: binary" in line for line in skipped)
    assert any(line.startswith("skipped ") and "empty.txt: empty" in line for line in skipped)

    listed = json.loads(rag(home, "sources", "--json").stdout)
    assert [(s["statement_id"], s["organization"], s["author"], s["date"]) for s in listed] == [
        ("good", "Test Org", "Jane Doe", "2021-05")
    ]


def test_sources_of_an_empty_store(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    assert json.loads(rag(home, "sources", "--json").stdout) == []
    assert "rag ingest" in rag(home, "sources").stdout


def test_show_unknown_statement(home: Path) -> None:
    line = one_error_line(rag(home, "show", "no-such-statement", "--json"))
    assert "no-such-statement" in line


def test_ask_on_an_empty_store(tmp_path: Path) -> None:
    line = one_error_line(rag(tmp_path / "empty", "ask", "What is the Quds Force?"))
    assert "rag ingest" in line


# -- ask -----------------------------------------------------------------------------


def test_ask_json_contract(home: Path, texts: dict[str, str]) -> None:
    result = rag(home, "ask", "What is the Quds Force?", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # one JSON object on one line
    data = json.loads(result.stdout)
    assert_answer_contract(data, texts)
    assert data["question"] == "What is the Quds Force?"
    assert data["abstained"] is False
    first = data["citations"][0]
    assert first["statement_id"] == SWP and first["paragraph"] == 7
    assert "Quds Force" in first["quote"]
    assert first["organization"] == "Socialist Workers Party" and first["date"] == "2020-01-03"
    assert first["source"] == f"{SWP}.txt"


def test_ask_json_abstains(home: Path, texts: dict[str, str]) -> None:
    data = json.loads(rag(home, "ask", "How do I bake a loaf of sourdough bread?", "--json").stdout)
    assert_answer_contract(data, texts)
    assert data["abstained"] is True and data["citations"] == []
    assert data["answer"]


def test_ask_json_compare_has_both_statements(home: Path, texts: dict[str, str]) -> None:
    result = rag(home, "ask", "How do the statements differ on the Democratic Party?", "--json")
    data = json.loads(result.stdout)
    assert_answer_contract(data, texts)
    order = [c["statement_id"] for c in data["citations"]]
    assert set(order) == {SEP, SWP}
    assert order == sorted(order, key=order.index)  # grouped per statement


@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        (["--statement", SEP], {SEP}),
        (["--statement", SWP, "--statement", SEP], {SEP, SWP}),
        (["--organization", "SWP"], {SWP}),
        (["--organization", "Socialist Equality Party"], {SEP}),
        (["--since", "2020"], {SWP}),
        (["--until", "2004-12"], {SEP}),
        (["--since", "2004", "--until", "2005", "-k", "3"], {SEP}),
        (["--compare", "-k", "4"], {SEP, SWP}),
    ],
)
def test_ask_options(
    home: Path, texts: dict[str, str], options: list[str], allowed: set[str]
) -> None:
    result = rag(home, "ask", "What do they demand about US troops?", "--json", *options)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert_answer_contract(data, texts)
    assert not data["abstained"]
    assert {c["statement_id"] for c in data["citations"]} <= allowed
    if "--compare" in options:
        assert {c["statement_id"] for c in data["citations"]} == allowed


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--statement", "nope"], "nope"),
        (["--organization", "Green Party"], "Green Party"),
        (["--since", "2020-13"], "2020-13"),
        (["--until", "last year"], "last year"),
        (["--since", "2030"], "No statement matches"),
    ],
)
def test_ask_bad_filters(home: Path, options: list[str], needle: str) -> None:
    line = one_error_line(rag(home, "ask", "What do they demand?", "--json", *options))
    assert needle in line


@pytest.mark.parametrize(
    "question",
    ["", "   ", "\t\n", "?", "x" * 2001, "Why? " * 1000],
    ids=["empty", "spaces", "whitespace", "punctuation", "over-limit", "long"],
)
def test_ask_unusable_question(home: Path, question: str) -> None:
    one_error_line(rag(home, "ask", question, "--json"))
    one_error_line(rag(home, "ask", question))


def test_ask_needs_exactly_one_of_question_and_batch(home: Path, tmp_path: Path) -> None:
    one_error_line(rag(home, "ask"))
    batch = tmp_path / "q.txt"
    batch.write_text("What is the Quds Force?\n", encoding="utf-8")
    one_error_line(rag(home, "ask", "What is the Quds Force?", "--batch", str(batch)))
    one_error_line(rag(home, "ask", "--batch", str(tmp_path / "missing.txt")))


def test_ask_readable(home: Path) -> None:
    result = rag(home, "ask", "What is the Quds Force?")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Naomi Craine, Socialist Workers Party, 2020-01-03")
    assert any(line.startswith("“He became the leader") and line.endswith("[1]") for line in lines)
    swp = "Naomi Craine, Socialist Workers Party, 2020-01-03"
    assert any(line.startswith(f"[1] {swp}, ¶7") for line in lines)

    abstained = rag(home, "ask", "Who wrote Hamlet?").stdout
    assert "don't address" in abstained


BATCH = [
    "What is the Quds Force?",
    "",
    "How many demonstrators have been killed in the Iraqi protests?",
    "What is the capital of France?",
    "How do the statements differ on the Democratic Party?",
]


def parse_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_ask_batch_file_one_json_per_line(
    home: Path, texts: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text("\n".join(BATCH) + "\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="rag.encoders.embeddings")
    result = rag(home, "ask", "--json", "--batch", str(batch))
    assert result.exit_code == 0, result.output
    answers = parse_lines(result.stdout)
    assert [a["question"] for a in answers] == [q for q in BATCH if q]
    for data in answers:
        assert_answer_contract(data, texts)
    assert [a["abstained"] for a in answers] == [False, False, True, False]
    assert any("450" in c["quote"] for c in answers[1]["citations"])
    loads = [r for r in caplog.records if r.getMessage().startswith("loading embedding model")]
    assert len(loads) <= 1  # never one load per question; none with the ONNX export


def test_ask_batch_stdin(home: Path, texts: dict[str, str]) -> None:
    result = rag(home, "ask", "--json", "--batch", "-", input="\n".join(BATCH[:3]))
    assert result.exit_code == 0, result.output
    answers = parse_lines(result.stdout)
    assert [a["question"] for a in answers] == [BATCH[0], BATCH[2]]
    for data in answers:
        assert_answer_contract(data, texts)


def test_ask_batch_keeps_going_after_a_bad_line(home: Path) -> None:
    questions = ["What is the Quds Force?", "?!", "Who wrote Hamlet?"]
    result = rag(home, "ask", "--json", "--batch", "-", input="\n".join(questions) + "\n")
    assert result.exit_code == 0, result.output
    answers = parse_lines(result.stdout)
    assert [a["question"] for a in answers] == questions
    assert "error" in answers[1] and "citations" not in answers[1]
    assert answers[0]["abstained"] is False and answers[2]["abstained"] is True


def test_ask_batch_with_bad_filters_fails_once(home: Path) -> None:
    questions = "What is the Quds Force?\nWho wrote Hamlet?\n"
    line = one_error_line(
        rag(home, "ask", "--json", "--batch", "-", "--organization", "Green Party", input=questions)
    )
    assert "Green Party" in line


# -- wording ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RAG_MIN_SCORE", "very high"), ("RAG_UI_CONCURRENCY", "-3")],
)
def test_bad_environment_value_is_one_line_naming_the_variable(
    home: Path, variable: str, value: str
) -> None:
    result = CliRunner().invoke(app, ["sources"], env={"RAG_HOME": str(home), variable: value})
    line = one_error_line(result)
    assert line.startswith(f"error: {variable}={value}: ")
    assert "validation error" not in line and "pydantic" not in line and "type=" not in line


def test_ask_with_nothing_says_what_to_give(home: Path) -> None:
    line = one_error_line(rag(home, "ask"))
    assert "nothing to ask" in line and "--batch" in line and "not both" not in line


def test_unknown_statement_is_worded_the_same_by_show_and_ask(home: Path) -> None:
    shown = one_error_line(rag(home, "show", "no-such-statement"))
    asked = one_error_line(
        rag(home, "ask", "What is the Quds Force?", "--statement", "no-such-statement")
    )
    assert shown == asked
    assert shown.startswith("error: Unknown statement id: no-such-statement")


@pytest.mark.parametrize("command", ["ingest", "sources", "show", "ask"])
def test_every_json_option_has_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if "--json" in line)
    assert line.split("--json", 1)[1].strip(), line


def test_ingest_refuses_an_invalid_date_before_anything_runs(tmp_path: Path) -> None:
    """`--date yesterday` was stored, and the UI then rejected it (issue 15)."""
    result = rag(tmp_path / "home", "ingest", str(tmp_path), "--date", "yesterday")
    assert result.exit_code != 0
    assert "Not a date" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "home" / "chroma").exists()


HOSTILE_META = {
    "organization": "Tram League \x1b]0;pwned\x07",  # sets the terminal's window title
    "author": "Ann \x1b[2J\x1b[HRider",  # clears the screen
    "title": "Trams \u202eevil\u202c and \x9b31m buses",  # bidi override, C1 CSI
}


def test_terminal_escapes_in_metadata_are_shown_not_run(tmp_path: Path) -> None:
    """Control characters in metadata reach no terminal through sources, show and ask;
    --json keeps the same values, written as escapes."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "trams.txt").write_text("The tram league demands a tram line on every avenue.\n")
    (folder / "statements.json").write_text(json.dumps({"trams.txt": HOSTILE_META}))
    home = tmp_path / "home"
    assert rag(home, "ingest", str(folder)).exit_code == 0
    [listed] = json.loads(rag(home, "sources", "--json").stdout)
    sid = listed["statement_id"]
    outputs = [
        rag(home, "sources"),
        rag(home, "show", sid),
        rag(home, "ask", "What does the tram league demand about a tram line?"),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in result.output, (bad, result.output)
    assert "\\x1b]0;pwned" in outputs[0].stdout and "\\u202e" in outputs[1].stdout
    raw = rag(home, "show", sid, "--json").stdout
    assert "\u202e" not in raw and "\x9b" not in raw
    assert json.loads(raw)["title"] == listed["title"]
    assert listed["organization"] == HOSTILE_META["organization"]  # the value itself is kept


# -- speakers: compare, positions, timeline (issue 20) ------------------------------------


def test_positions_as_json_table_csv_and_markdown(bundled: Services) -> None:
    home = bundled.settings.home
    question = "Where do the speakers stand on the Democratic Party?"
    data = json.loads(rag(home, "ask", question, "--json").stdout)
    assert data["mode"] == "positions" and not data["abstained"]
    rows = data["positions"]
    assert rows and {r["speaker"] for r in rows} <= {"Naomi Craine", "Socialist Equality Party"}
    numbers = {c["n"] for c in data["citations"]}
    for row in rows:
        assert row["quotes"] and {q["n"] for q in row["quotes"]} <= numbers
        assert all(q["speaker"] == row["speaker"] for q in row["quotes"])
    table = rag(home, "ask", question).stdout
    assert "Positions on the Democratic Party" in table and "Speaker" in table
    csv_out = rag(home, "ask", question, "--csv").stdout.splitlines()
    assert csv_out[0].startswith("speaker,author,organization,date,statement_id")
    assert csv_out[0] == ",".join(COLUMNS)  # no carriage return shown as an escape
    assert len(csv_out) >= 1 + len(data["citations"])
    markdown = rag(home, "ask", question, "--markdown").stdout
    assert "| Speaker | Date | Quote |" in markdown and "[^1]:" in markdown


def test_a_mode_can_be_forced_and_a_timeline_needs_one_speaker(bundled: Services) -> None:
    home = bundled.settings.home
    forced = json.loads(rag(home, "ask", "Iran", "--mode", "positions", "--json").stdout)
    assert forced["mode"] == "positions"
    result = rag(home, "ask", "Iran", "--mode", "timeline")
    assert result.exit_code == 1 and "timeline follows one speaker" in result.stderr
    assert "Traceback" not in result.stderr
    alone = json.loads(
        rag(home, "ask", "Iran", "--mode", "timeline", "--organization", "SWP", "--json").stdout
    )
    assert alone["mode"] == "timeline" and [t["date"] for t in alone["timeline"]] == ["2020-01-03"]


def test_sources_lists_speakers_with_their_statements(bundled: Services) -> None:
    out = rag(bundled.settings.home, "sources").stdout.splitlines()
    assert out[0].startswith("Naomi Craine — Socialist Workers Party (1 statement)")
    assert out[1].split()[:2] == [SWP, "2020-01-03"]
