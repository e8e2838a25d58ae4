"""The page's speaker answers (ui/web/grouped.py): a positions table, compare columns per
speaker (not per statement), a vertical timeline; every text escaped."""

from __future__ import annotations

from rag.models import Answer, Citation, SpeakerQuotes, Statement, TimelineEntry
from ui.web.html import answer_message


def _statement(sid: str, author: str | None, org: str, date: str) -> Statement:
    return Statement(
        statement_id=sid, source=f"{sid}.txt", content_hash=sid, author=author,
        organization=org, date=date, title=f"Address {date}",
    )  # fmt: skip


OBAMA_10 = _statement("o10", "Barack Obama", "Democratic Party", "2010")
OBAMA_14 = _statement("o14", "Barack Obama", "Democratic Party", "2014")
BUSH = _statement("b02", "George W. Bush", "Republican Party", "2002")


def _cite(n: int, statement: Statement, quote: str) -> Citation:
    return Citation.of(n, statement, 1, 0, len(quote), quote)


CITATIONS = [
    _cite(1, OBAMA_10, "We will <b>end</b> this war."),
    _cite(2, OBAMA_14, "The war is over."),
    _cite(3, BUSH, "We will stay the course."),
]
OBAMA = SpeakerQuotes(
    speaker="Barack Obama", author="Barack Obama", organization="Democratic Party",
    citations=[1, 2], statements=2,
)  # fmt: skip
BUSH_ROW = SpeakerQuotes(
    speaker="George W. Bush", author="George W. Bush", organization="Republican Party",
    citations=[3], statements=1,
)  # fmt: skip


def _answer(mode: str, **fields: object) -> Answer:
    return Answer(
        question="the war", abstained=False, answer="", citations=CITATIONS, mode=mode,
        topic="the war", **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_positions_are_a_table_with_a_row_per_speaker() -> None:
    html = answer_message(
        _answer("positions", positions=[OBAMA, BUSH_ROW], not_addressed_by=["SEP <x>"])
    )
    assert html.count('<th scope="row"') == 2 and "<table" in html
    assert "Barack Obama (Democratic Party)" in html and "2010, 2014" in html
    assert "&lt;b&gt;end&lt;/b&gt;" in html and "<b>end</b>" not in html
    assert html.count('class="rag-ref"') == 3  # every quote keeps its clickable marker
    assert "Not addressed by: SEP &lt;x&gt;." in html


def test_a_comparison_is_one_column_per_speaker_whatever_their_statements() -> None:
    html = answer_message(
        _answer("compare", compare=True, positions=[OBAMA, BUSH_ROW], not_addressed_by=["SEP"])
    )
    assert html.count('<div class="rag-col">') == 2  # Obama's two addresses: one column
    assert html.count("rag-col-missing") == 1 and "(2010)" in html and "(2014)" in html


def test_a_timeline_lists_the_statements_in_date_order() -> None:
    timeline = [
        TimelineEntry(
            statement_id=f"o{y[2:]}", date=y, label="x", title=f"Address {y}", citations=[n]
        )
        for n, y in ((1, "2010"), (2, "2014"))
    ]
    html = answer_message(_answer("timeline", timeline=timeline, speakers=["Barack Obama"]))
    assert '<ol class="rag-timeline">' in html and html.index("2010") < html.index("2014")
    assert "Barack Obama on the war, in date order" in html


def test_two_quotes_of_one_paragraph_are_one_card_with_both_marked() -> None:
    """Issue 21: the same paragraph appeared twice among the citations."""
    from ui.web.panels import citations_panel

    text = "First sentence here. Second one follows. Third closes it."
    statement = _statement("s1", "Ann Rider", "Cycling Club", "2020")
    first = Citation.of(1, statement, 1, 0, 20, text[0:20])
    third = Citation.of(2, statement, 1, 41, 57, text[41:57])
    answer = Answer(question="q", abstained=False, answer="", citations=[first, third])
    panel = citations_panel(answer, {"s1": text})
    assert panel.count('class="rag-card rag-card-cite"') == 1
    assert panel.count('<mark class="rag-cited"') == 2 and "[1][2]" in panel
    assert 'id="rag-cite-2"' in panel  # a marker of either quote still finds the card
