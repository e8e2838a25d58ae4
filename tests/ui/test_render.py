"""The UI's rendering, export, feedback and launch checks, without a server."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
import pytest

from ingest.uploads import upload_name
from rag.errors import EmptyStoreError, InvalidFilterError, RagError
from rag.models import Answer, Citation, QuoteGroup, Segment, Statement, StatementRef
from rag.settings import Settings
from rag.stages.compose import group_citations
from ui.render.markdown import conversation_markdown
from ui.render.text import readable
from ui.web import html, toasts
from ui.web.app import auth_for, launch, parse_auth, serve
from ui.web.auth import LoginThrottle
from ui.web.downloads import ExportFolder
from ui.web.feedback import record_feedback

EVIL = '<script>window.__xss=1</script> and <img src=x onerror="window.__xss=1">'
PARAS = [
    "First paragraph opens the statement. It has two sentences.",
    "Before the quote comes this sentence. The quoted sentence says *something* important. "
    "After the quote comes this one.",
    f"A hostile paragraph: {EVIL} ends here.",
]
TEXT = "\n\n".join(PARAS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def _citation(n: int, needle: str, **extra: object) -> Citation:
    start, end = _span(TEXT, needle)
    fields: dict[str, object] = {
        "n": n,
        "statement_id": "stmt_1",
        "source": "stmt_1.txt",
        "organization": "Example Party",
        "date": "2020-01-03",
        "paragraph": html.paragraph_at(TEXT, start).number,
        "start": start,
        "end": end,
        "quote": TEXT[start:end],
        **extra,
    }
    return Citation.model_validate(fields)


QUOTE = "The quoted sentence says *something* important."
HOSTILE = f"A hostile paragraph: {EVIL} ends here."


def _answer(*citations: Citation, **extra: object) -> Answer:
    lines = ["Example Party, 2020-01-03:"] + [f"“{c.quote}” [{c.n}]" for c in citations]
    return Answer(
        question="What does it say?",
        abstained=False,
        answer="\n".join(lines),
        citations=list(citations),
        **{"groups": group_citations(citations, {}), **extra},  # type: ignore[arg-type]
    )


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def _no_live_markup(markup: str) -> None:
    """No element or attribute that could run script came from statement text."""
    parser = _Elements()
    parser.feed(markup)
    assert not parser.tags & {"script", "img", "iframe", "svg", "b"}, parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")], parser.attrs


def test_paragraphs_follow_blank_lines() -> None:
    found = html.paragraphs(TEXT)
    assert [TEXT[p.start : p.end] for p in found] == PARAS
    assert [p.number for p in found] == [1, 2, 3]
    start, _ = _span(TEXT, QUOTE)
    assert html.paragraph_at(TEXT, start).number == 2


def test_context_window_keeps_sentences_around_a_quote_in_long_paragraphs() -> None:
    sentences = [f"Sentence number {i} is here." for i in range(80)]
    text = " ".join(sentences)
    paragraph = html.paragraph_at(text, 0)
    start, end = _span(text, sentences[40])
    left, right = html.context_window(text, paragraph, start, end)
    shown = text[left:right]
    assert shown.startswith(sentences[39]) and sentences[41] in shown
    assert sentences[38] not in shown and sentences[43] not in shown


def test_answer_message_shows_quotes_with_markers() -> None:
    citation = _citation(1, QUOTE)
    markup = html.answer_message(_answer(citation))
    assert '<blockquote class="rag-quote"' in markup
    assert "*something*" in markup  # statement text is not reinterpreted as Markdown
    assert f'data-start="{citation.start}" data-end="{citation.end}"' in markup
    assert ">[1]</a>" in markup
    assert "\n" not in markup  # one raw-HTML block for the chat's Markdown


def test_hostile_statement_text_is_escaped_everywhere() -> None:
    citation = _citation(1, HOSTILE, title="<b>Bold</b> title")
    answer = _answer(citation, resolved_question="<img src=x onerror=alert(1)>")
    statement = Statement(
        statement_id="stmt_1",
        source="<script>x</script>",
        content_hash="h",
        text=TEXT,
        title="<b>Bold</b> title",
    )
    for markup in (
        html.answer_message(answer),
        html.streaming_message(answer.answer),
        html.streaming_message(EVIL),
        html.citations_panel(answer, {"stmt_1": TEXT}),
        html.statement_viewer(statement, citation.start, citation.end),
        html.user_message(EVIL),
    ):
        _no_live_markup(markup)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html.answer_message(answer)
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in html.citations_panel(answer, {"stmt_1": TEXT})


def test_citations_panel_marks_the_quote_inside_its_paragraph() -> None:
    citation = _citation(1, QUOTE)
    markup = html.citations_panel(_answer(citation), {"stmt_1": TEXT})
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", markup)
    assert marked == [html.esc(QUOTE)]
    assert "Before the quote comes this sentence." in markup
    assert "After the quote comes this one." in markup
    assert "¶2" in markup and "Example Party, 2020-01-03" in markup
    assert 'class="rag-card rag-card-cite"' in markup


def test_citation_card_uses_the_title_when_there_is_one() -> None:
    citation = _citation(1, QUOTE, title="A Title")
    markup = html.citations_panel(_answer(citation), {"stmt_1": TEXT})
    assert "A Title" in markup and "Example Party · 2020-01-03" in markup


def test_abstention_is_visibly_different_and_labels_nearest_passages() -> None:
    nearest = _citation(1, QUOTE)
    answer = Answer(
        question="What is the capital of France?",
        abstained=True,
        answer="The statements don't address this question.",
        nearest=[nearest],
    )
    message = html.answer_message(answer)
    assert "rag-abstain" in message
    assert html.esc(html.ABSTAIN_HEADING) in message
    assert "Nearest passages — not an answer" in message
    panel = html.citations_panel(answer, {"stmt_1": TEXT})
    assert "Nearest passages — not an answer" in panel and "rag-card-nearest" in panel
    assert "rag-card-cite" not in panel


def test_compare_renders_one_column_per_statement_and_the_silent_ones() -> None:
    a = _citation(1, QUOTE)
    b = _citation(2, "First paragraph opens the statement.", statement_id="stmt_2")
    answer = Answer(
        question="How do they differ?",
        abstained=False,
        answer="2 statements address it:\n\n" + "\n".join(f"“{c.quote}” [{c.n}]" for c in (a, b)),
        citations=[a, b],
        groups=group_citations([a, b], {}),
        compare=True,
        not_addressed=[StatementRef(statement_id="stmt_3", label="Third Party, 2021")],
    )
    markup = html.answer_message(answer)
    assert markup.count('class="rag-col"') == 2
    assert markup.count("rag-col-missing") == 1
    assert "Third Party, 2021" in markup and "Does not address this." in markup


def test_viewer_numbers_paragraphs_and_highlights_the_span() -> None:
    start, end = _span(TEXT, QUOTE)
    statement = Statement(statement_id="stmt_1", source="s.txt", content_hash="h", text=TEXT)
    markup = html.statement_viewer(statement, start, end)
    assert [f"¶{i}" in markup for i in (1, 2, 3)] == [True, True, True]
    assert re.findall(r'<mark class="rag-cited">(.*?)</mark>', markup) == [html.esc(QUOTE)]
    assert 'id="rag-par-2"' in markup and "rag-par-cited" in markup
    assert "?statement=stmt_1&amp;start=" in markup
    # an impossible span highlights nothing rather than something wrong
    assert "<mark" not in html.statement_viewer(statement, end, start)
    assert "<mark" not in html.statement_viewer(statement, 0, len(TEXT) + 5)


def test_streaming_message_shows_the_streamed_text_escaped_and_plain() -> None:
    partial = html.streaming_message("Example Party, 2020-01-03:\n")
    assert "Example Party" in partial and "blockquote" not in partial
    # while streaming nothing is parsed out of the text: no quote blocks, no links
    full = html.streaming_message(f"Example Party:\n“{QUOTE}” [1]\n{EVIL}")
    assert "rag-streaming" in full and "blockquote" not in full and "<a " not in full
    assert "[1]" in full and html.esc(EVIL) in full and "\n" not in full
    _no_live_markup(full)


def test_export_numbers_footnotes_across_the_conversation() -> None:
    first = _answer(_citation(1, QUOTE, title="A [Title]"))
    second = _answer(_citation(1, HOSTILE), _citation(2, QUOTE))
    abstained = Answer(
        question="Capital?",
        abstained=True,
        answer="The statements don't address this question.",
        nearest=[_citation(1, QUOTE)],
    )
    markdown = conversation_markdown([first, second, abstained])
    assert markdown.count("[^1]:") == 1 and "[^3]:" in markdown and "[^4]:" in markdown
    assert "> “The quoted sentence says \\*something\\* important.” [^1]" in markdown
    assert "¶2" in markdown and "Example Party" in markdown and "2020-01-03" in markdown
    assert "“A \\[Title\\]”" in markdown
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "Nearest passages — not an answer" in markdown


def test_feedback_appends_json_lines(settings: Settings) -> None:
    answer = _answer(_citation(1, QUOTE))
    record_feedback(settings, answer, True, "  good  ")
    record_feedback(settings, answer, False)
    lines = settings.feedback_path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["helpful"] for r in records] == [True, False]
    assert records[0]["comment"] == "good" and records[1]["comment"] is None
    assert records[0]["question"] == "What does it say?"
    assert records[0]["citations"][0]["quote"] == QUOTE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("my statement <script>.HTML", "my-statement-script.html"),
        (".hidden.txt", "hidden.txt"),
        ("....pdf", "upload.pdf"),
    ],
)
def test_upload_names_are_sanitised(name: str, expected: str) -> None:
    assert upload_name(name) == expected


def test_public_address_requires_auth(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert auth_for(settings, "127.0.0.1", no_auth=False) is None
    assert auth_for(settings, "localhost", no_auth=False) is None
    with pytest.raises(RagError, match="without a password"):
        auth_for(settings, "0.0.0.0", no_auth=False)
    assert auth_for(settings, "0.0.0.0", no_auth=True) is None
    with_auth = Settings(home=tmp_path, ui_auth="alice:s3cret:with:colons")
    assert auth_for(with_auth, "0.0.0.0", no_auth=False) == [("alice", "s3cret:with:colons")]


def test_auth_file_and_bad_values(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("# users\nalice:one\n\nbob:two\n", encoding="utf-8")
    assert parse_auth(str(users)) == [("alice", "one"), ("bob", "two")]
    with pytest.raises(RagError, match="user:password"):
        parse_auth("no-colon-here")


def test_launch_refuses_a_public_address_before_loading_anything(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="RAG_UI_AUTH"):
        launch(Settings(home=tmp_path / "home"), host="0.0.0.0", port=1)
    assert not (tmp_path / "home").exists()


# -- typed rendering: every face renders the typed answer, never its text -------------

LONG_TITLE = "A very long title " * 7 + "<i>that ends</i>"
NOT_PARSED = "TEXT-THAT-NO-FACE-SHOWS [1] “fake quote” [2]"


def _faces(answer: Answer) -> dict[str, str]:
    return {
        "html": html.answer_message(answer),
        "markdown": conversation_markdown([answer]),
        "cli": readable(answer),
    }


def test_groups_render_a_short_label_and_the_title_once_in_every_face() -> None:
    a = _citation(1, QUOTE, title=LONG_TITLE)
    b = _citation(2, "First paragraph opens the statement.", title=LONG_TITLE)
    group = QuoteGroup(
        statement_id="stmt_1", label="Example Party, 2020-01-03", title=LONG_TITLE, citations=[1, 2]
    )
    answer = Answer(
        question="What does it say?",
        abstained=False,
        answer=NOT_PARSED,
        citations=[a, b],
        groups=[group],
        scope="all 3 statements",
        resolved_question="What does Example Party say?",
    )
    faces = _faces(answer)
    for name, text in faces.items():
        assert "TEXT-THAT-NO-FACE-SHOWS" not in text and "fake quote" not in text, name
        assert "Understood as: What does Example Party say?" in text, name
        assert "Searched: all 3 statements" in text, name
        assert "Example Party, 2020-01-03" in text, name
    markup = faces["html"]
    assert markup.count("that ends") == 1 and markup.count("rag-quote-text") == 2
    assert html.esc("<i>that ends</i>") in markup
    _no_live_markup(markup)
    panel = html.citations_panel(answer, {"stmt_1": TEXT})
    assert panel.count("that ends") == 1 and panel.count("rag-card-cite") == 2
    assert faces["cli"].count("that ends") == 1
    assert "“The quoted sentence says *something* important.” [1]" in faces["cli"]
    assert "[1] Example Party, 2020-01-03, ¶2" in faces["cli"]


def test_compare_heading_names_the_topic_and_counts_separately() -> None:
    a = _citation(1, QUOTE)
    b = _citation(2, "First paragraph opens the statement.", statement_id="stmt_2")
    answer = Answer(
        question="What is the Quds Force?",
        abstained=False,
        answer=NOT_PARSED,
        citations=[a, b],
        compare=True,
        topic="the Quds Force",
        groups=[
            QuoteGroup(statement_id="stmt_2", label="Second Party, 2021", citations=[2]),
            QuoteGroup(statement_id="stmt_1", label="Example Party, 2020-01-03", citations=[1]),
        ],
        not_addressed=[StatementRef(statement_id="stmt_3", label="Third Party, 2021")],
    )
    for name, text in _faces(answer).items():
        assert "Compared on: the Quds Force" in text, name
        assert "2 statements address it; 1 does not" in text, name
        assert "addresses What is the Quds Force" not in text, name
        assert text.index("Second Party, 2021") < text.index("Example Party, 2020-01-03"), name
    markup = html.answer_message(answer)
    assert markup.count('class="rag-col"') == 2 and "rag-col-missing" in markup


def test_generated_answers_render_segments_with_citation_links() -> None:
    citation = _citation(1, QUOTE)
    answer = Answer(
        question="What does it say?",
        abstained=False,
        answer=NOT_PARSED,
        citations=[citation],
        generated=True,
        segments=[
            Segment(text=f"The party says it is important {EVIL}", refs=[1, 7]),
            Segment(text=" and nothing more.", refs=[]),
        ],
        unverified=["a made-up quote"],
    )
    faces = _faces(answer)
    markup = faces["html"]
    _no_live_markup(markup)
    assert html.esc(EVIL) in markup and ">[1]</a>" in markup and "[7]" not in markup
    assert f'data-start="{citation.start}"' in markup
    assert "1 generated quote(s) were not found verbatim" in markup
    assert "[^1]" in faces["markdown"] and "\\<script\\>" in faces["markdown"]
    assert "important" in faces["cli"] and "[1]" in faces["cli"] and "[7]" not in faces["cli"]
    for name, text in faces.items():
        assert "TEXT-THAT-NO-FACE-SHOWS" not in text, name


def test_abstention_faces_say_so_and_show_the_scope() -> None:
    answer = Answer(
        question="Capital?",
        abstained=True,
        answer=NOT_PARSED,
        nearest=[_citation(1, QUOTE)],
        scope="statements of Example Party",
    )
    for name, text in _faces(answer).items():
        assert "The statements don't address this question." in text.replace("&#x27;", "'"), name
        assert "Searched: statements of Example Party" in text, name
        assert "TEXT-THAT-NO-FACE-SHOWS" not in text, name


# -- hardening (issue 15) and rough edges (issue 13) -------------------------------------


def test_toasts_escape_what_they_interpolate(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(toasts.gr, "Warning", shown.append)
    monkeypatch.setattr(toasts.gr, "Info", shown.append)
    form = '<form action="https://evil.example"><input type="password" name="p"></form>'
    toasts.warn(toasts.unknown_statement(form))
    toasts.info(f"Organization {form} ready")
    assert len(shown) == 2
    for message in shown:
        assert "<form" not in message and "<input" not in message
        assert "&lt;form" in message


def test_web_errors_name_no_cli_command() -> None:
    message = toasts.unknown_statement("no-such-statement")
    assert "no-such-statement" in message and "rag " not in message and "Sources tab" in message
    hinted = InvalidFilterError("Unknown statement id: x", hint="`rag sources` lists them")
    assert toasts.for_web(hinted) == (
        "Unknown statement id: x (the Sources tab lists the ingested statements)"
    )
    empty = EmptyStoreError("No statements have been ingested yet", hint="run `rag ingest` first")
    assert "`rag" not in toasts.for_web(empty) and "Sources tab" in toasts.for_web(empty)
    plain = RagError("Not a date: 'last spring'", hint="use YYYY[-MM[-DD]]")
    assert toasts.for_web(plain) == str(plain)


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        ("120", "40", "ends before it starts (120–40)"),
        ("10", "99999", "lies outside this statement"),
        ("-5", "10", "lies outside this statement"),
        ("abc", "12", "not numbers"),
        ("10", None, "only one end"),
    ],
)
def test_viewer_says_why_a_deep_link_highlights_nothing(
    start: str | None, end: str | None, why: str
) -> None:
    statement = Statement(statement_id="stmt_1", source="s.txt", content_hash="h", text=TEXT)
    markup = html.statement_viewer(statement, start, end)
    assert "<mark" not in markup and "rag-link-note" in markup
    assert why in markup and "showing the whole statement" in markup
    good = html.statement_viewer(statement, *map(str, _span(TEXT, QUOTE)))
    assert "<mark" in good and "rag-link-note" not in good
    assert "rag-link-note" not in html.statement_viewer(statement)


def test_failed_logins_lock_the_name_out() -> None:
    now = [1000.0]
    check = LoginThrottle([("alice", "s3cret")], free=3, base=1.0, clock=lambda: now[0])
    assert check("alice", "s3cret")
    assert not any(check("alice", f"guess{i}") for i in range(300))
    # 3 free failures, then one counted failure per lockout: 300 tries cost 1 s, not 300
    assert check.locked_for("alice") == pytest.approx(1.0)
    assert not check("alice", "s3cret")  # refused unchecked while locked out
    now[0] += 1.01
    assert not check("alice", "wrong")
    assert check.locked_for("alice") == pytest.approx(2.0)  # doubled
    now[0] += 2.01
    assert check("alice", "s3cret")  # a success clears the count
    assert check.locked_for("alice") == 0
    assert not check("nobody", "x") and not check("alice", "")


def test_guessing_from_one_address_locks_out_that_address_not_other_users() -> None:
    """Failures count per name and per client address: 21 made-up names from one client
    lock out that client's guessing, never alice with her right password (they used to
    lock out everyone), and a user with failures of their own is throttled everywhere."""
    now, client = [0.0], ["10.0.0.66"]
    check = LoginThrottle(
        [("alice", "s3cret"), ("bob", "b0b")],
        free=3,
        free_address=5,
        clock=lambda: now[0],
        client=lambda: client[0],
    )
    for i in range(21):
        assert not check(f"user{i}", "pw")
    assert check.locked_for("user99", "10.0.0.66") > 0  # the guessing client is slowed
    client[0] = "10.0.0.7"
    assert check.locked_for("alice", "10.0.0.7") == 0
    assert check("alice", "s3cret")  # another client: in
    client[0] = "10.0.0.66"
    assert check("bob", "b0b")  # even behind the guessing address: bob has no failures
    for _ in range(4):  # guessing alice's password (from the locked address too)
        assert not check("alice", "guess")
    assert check.locked_for("alice") > 0
    client[0] = "10.0.0.7"
    assert not check("alice", "s3cret")  # her own failures lock her name out, anywhere
    now[0] += 10_000  # a quiet spell forgets the failures
    assert check("alice", "s3cret")
    for i in range(60):  # one bad login per second with made-up names
        now[0] += 1
        client[0] = "10.0.0.66"
        check(f"nobody{i}", "pw")
        client[0] = "10.0.0.7"
        assert check("alice", "s3cret")


def test_exports_stay_in_one_folder_and_old_ones_go(tmp_path: Path) -> None:
    folder = ExportFolder(tmp_path / "exports", keep=3, max_age=3600)
    paths = [folder.write("conversation.md", f"turn {i}") for i in range(5)]
    assert all(p.parent.parent == folder.root for p in paths)
    assert paths[-1].read_text(encoding="utf-8") == "turn 4"
    assert len(list(folder.root.iterdir())) == 3  # the newest only
    old = paths[-1].parent
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    folder.write("conversation.md", "later")
    assert not old.exists()
    folder.remove()
    assert not folder.root.exists()


def test_serve_does_not_advertise_share_links(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with gr.Blocks() as demo:
        gr.Markdown("hello")
    try:
        url = serve(demo, Settings(home=tmp_path), port=_free_port())
    finally:
        demo.close()
    out = capfd.readouterr()
    assert url.startswith("http://127.0.0.1:")
    assert "share=True" not in out.out + out.err


def test_two_clients_one_guessing_names_the_other_logs_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Over real HTTP from two loopback addresses: the login check sees each client's
    address (its failures lock out that address only), and alice gets in."""
    import httpx

    with gr.Blocks() as demo:
        gr.Markdown("hello")
    settings = Settings(home=tmp_path, ui_auth="alice:s3cret-pass")
    try:
        url = serve(demo, settings, port=_free_port())

        def client(address: str) -> httpx.Client:
            transport = httpx.HTTPTransport(local_address=address)
            return httpx.Client(base_url=url, transport=transport, timeout=30)

        with client("127.0.0.2") as guesser, client("127.0.0.3") as alice:
            for i in range(22):  # 20 free; the 21st locks the address; the 22nd is refused
                login = {"username": f"made-up-{i}", "password": "pw"}
                assert guesser.post("/login", data=login).status_code == 400
            assert "127.0.0.2 is locked out" in caplog.text
            right = {"username": "alice", "password": "s3cret-pass"}
            assert alice.post("/login", data=right).status_code == 200
            assert guesser.post("/login", data=right).status_code == 200
    finally:
        demo.close()
