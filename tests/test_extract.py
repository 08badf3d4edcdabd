"""extract.py: article text, title and date from real-looking pages, in any charset."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from summarizer.errors import InputError
from summarizer.sources.extract import decode_web, document_from_html, extract, parse_date
from summarizer.sources.fetch import Fetched, FetchLimits, fetch, new_client
from summarizer.sources.ingest import Document
from tests.web_server import FIXTURES, Route, WebServer, page

LIMITS = FetchLimits(read_timeout=2.0, total_timeout=10.0)


def fetched(url: str) -> Fetched:
    async def go() -> Fetched:
        async with new_client(trust_env=False) as client:
            return await fetch(url, client=client, limits=LIMITS)

    return asyncio.run(go())


def load(url: str) -> Document:
    return extract(fetched(url))


def test_article_keeps_the_story_and_drops_the_boilerplate(web: WebServer) -> None:
    url = web.add("/news/flood", page("article.html"))
    doc = load(url)
    assert doc.title == "Harbor City approves $40m flood barrier after heated vote"
    assert doc.url == url
    assert doc.published is not None and doc.published.tzinfo == UTC
    assert doc.published.date() == date(2025, 3, 14)
    for sentence in (
        "Harbor City council voted seven to four on Thursday night to build a tidal flood "
        "barrier across the mouth of the Wren estuary",
        '"We cannot keep sandbagging our way through every winter," said Mayor Lucia Ferreira',
        "Opponents question the price",
        '"Nobody is against protecting Eastbank, but I am not going to sign a blank cheque,"',
        "gates would be closed only when forecasters predict a surge higher than 1.8 metres.",
    ):
        assert sentence in doc.text
    for boilerplate in (
        "Accept all cookies",  # cookie banner
        "Subscribe for 99 cents",  # navigation
        "Local News",
        "ADVERTISEMENT",  # both ads
        "Coastline Electric",
        "Share on Facebook",
        "Read more",  # inline related-story link
        "Topics:",
        "Sign up for our free newsletter",
        "colossal waste of taxpayer money",  # reader comments
        "floodwatcher",
        "Most read",  # sidebar
        "Ferry fares to rise",
        "All rights reserved",  # footer
        "Privacy policy",
    ):
        assert boilerplate not in doc.text, boilerplate


def test_german_article_keeps_umlauts_and_quotes(web: WebServer) -> None:
    url = web.add("/artikel/strassenbahn", page("article_de.html"))
    doc = load(url)
    assert doc.title == "Stadtrat beschließt neue Straßenbahnlinie nach Südstadt"
    assert doc.published == datetime(2025, 2, 3, 17, 5, tzinfo=UTC)
    assert (
        "„Das ist ein guter Tag für alle Pendlerinnen und Pendler, die jeden Morgen im Stau "
        "stehen“, sagte Oberbürgermeisterin Sabine Krüger" in doc.text
    )
    assert "Anwohner der Müllerstraße" in doc.text
    for boilerplate in ("Startseite", "Jetzt abonnieren", "Völlig überteuert", "Impressum"):
        assert boilerplate not in doc.text


CAFE = "“We’re not asking for a favour, we’re asking for fairness,” said Renée Dubois"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",  # the charset is only in the page's <meta http-equiv>
        "text/html; charset=windows-1252",
        "text/html; charset=ISO-8859-1",  # browsers read this label as windows-1252 too
    ],
)
def test_windows_1252_page(web: WebServer, content_type: str) -> None:
    url = web.add("/cafe", page("article_cp1252.html", content_type))
    doc = load(url)
    assert doc.title == "Café owners fight the “terrace tax”"
    assert CAFE in doc.text
    assert "a new levy of €1,200 per table a year" in doc.text
    assert "before the summer season — and they" in doc.text
    assert "Ólafur Jónsson" in doc.text
    # A page with no date of its own gets none: not 1 January of the footer's © year.
    assert doc.published is None


@pytest.mark.parametrize("content_type", ["text/html; charset=Shift_JIS", "text/html"])
def test_shift_jis_page(web: WebServer, content_type: str) -> None:
    url = web.add("/jp", page("article_sjis.html", content_type))
    doc = load(url)
    assert doc.title == "港区で新しい防潮堤の建設が決定"
    quote = "区長の田中由美氏は採決後、「毎年の台風のたびに住民が避難する生活を終わらせたい」"
    assert quote in doc.text
    assert "ログイン" not in doc.text


def test_utf8_page_mislabelled_latin1_is_read_as_utf8(web: WebServer) -> None:
    url = web.add("/de", page("article_de.html", "text/html; charset=iso-8859-1"))
    assert "Oberbürgermeisterin Sabine Krüger" in load(url).text


def test_page_with_only_navigation_has_no_article(web: WebServer) -> None:
    url = web.add("/sections", page("nav_only.html"))
    with pytest.raises(InputError) as info:
        load(url)
    assert str(info.value).startswith(f"no article text found at {url};")
    assert info.value.exit_code == 4


def test_javascript_shell_page_has_no_article(web: WebServer) -> None:
    body = (
        b"<!doctype html><html><head><title>News</title></head><body><div id='root'></div>"
        b"<noscript>You need to enable JavaScript to run this app.</noscript>"
        b"<script>render()</script></body></html>"
    )
    url = web.add("/app", Route(body=body))
    with pytest.raises(InputError, match="no article text found at"):
        load(url)


def test_plain_text_response_is_a_document_as_it_is(web: WebServer) -> None:
    text = "Ferry fares to rise\n\nFares on the harbour ferry will rise by 12 per cent in April.\n"
    url = web.add("/fares.txt", Route(headers={"Content-Type": "text/plain"}, body=text.encode()))
    doc = load(url)
    assert (doc.text, doc.title, doc.url) == (text, "Ferry fares to rise", url)


def test_plain_text_in_a_declared_legacy_charset(web: WebServer) -> None:
    body = "Café prices\n\nA coffee now costs €3.20 at the Café Sévigné.\n".encode("cp1252")
    headers = {"Content-Type": "text/plain; charset=windows-1252"}
    url = web.add("/prices.txt", Route(headers=headers, body=body))
    assert "costs €3.20 at the Café Sévigné" in load(url).text


def test_missing_content_type_is_sniffed_as_html(web: WebServer) -> None:
    url = web.add("/bare", Route(headers={}, body=(FIXTURES / "article_de.html").read_bytes()))
    doc = load(url)
    assert doc.title == "Stadtrat beschließt neue Straßenbahnlinie nach Südstadt"
    assert "<p>" not in doc.text


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"", "is empty"), (b" \n\t ", "is empty"), (b"<html>\x00\x01\x02</html>", "binary")],
)
def test_empty_and_binary_bodies(web: WebServer, body: bytes, words: str) -> None:
    url = web.add("/odd", Route(body=body))
    with pytest.raises(InputError) as info:
        load(url)
    assert str(info.value).startswith(f"{url}: ")
    assert words in str(info.value)


def test_saved_page_keeps_its_canonical_url() -> None:
    data = (FIXTURES / "article.html").read_bytes()
    doc = document_from_html(data, name="saved.html", path="saved.html")
    assert doc.url == "https://chronicle.example/news/2025/03/14/flood-barrier-vote"
    assert doc.path == "saved.html"


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("naïve café".encode(), None, "naïve café"),
        ("naïve café €".encode("cp1252"), None, "naïve café €"),  # unlabelled: windows-1252
        ("\ufeffnaïve".encode(), "windows-1252", "naïve"),  # a BOM beats the label
        ("naïve".encode("utf-16"), None, "naïve"),
        ("Grüße".encode("cp1252"), "x-unknown-charset", "Grüße"),
        (b"<meta charset='koi8-r'>" + "Привет".encode("koi8_r"), None, "Привет"),
        (b'<?xml version="1.0" encoding="iso-8859-15"?>' + "€".encode("iso8859_15"), None, "€"),
        ("€ \x81".encode("cp1252", errors="ignore") + b"\x81", None, "€ \ufffd"),  # undefined byte
    ],
)
def test_decode_web(data: bytes, charset: str | None, expected: str) -> None:
    assert expected in decode_web(data, name="x", charset=charset)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-02-03T18:05:00+0100", datetime(2025, 2, 3, 17, 5, tzinfo=UTC)),
        ("2025-03-14T00:00:00", datetime(2025, 3, 14, tzinfo=UTC)),
        ("2025-03-14", datetime(2025, 3, 14, tzinfo=UTC)),
        ("last Tuesday", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_precise_extraction_that_lost_the_body_is_replaced_by_the_fuller_one() -> None:
    # The review's body sits in a grid of boxes styled "border:0": favor_precision drops
    # them all and keeps the two-paragraph lede (674 of 3,133 characters).
    doc = document_from_html((FIXTURES / "review_grid.html").read_bytes(), name="review.html")
    assert "The Lantern Makers have spent four years away" in doc.text
    assert "Four stars." in doc.text  # the last paragraph
    assert "Most read" not in doc.text and "Subscribe" not in doc.text
    assert doc.warnings == ()


def test_a_page_holding_much_more_than_was_extracted_carries_a_warning() -> None:
    # The article runs on in a column the site calls a sidebar: no extraction keeps it.
    doc = document_from_html(
        (FIXTURES / "review_two_column.html").read_bytes(), name="https://mag.example/review"
    )
    assert "Four stars." not in doc.text
    assert doc.warnings == (
        f"https://mag.example/review: extracted {len(doc.text):,} characters of the 3,112 in "
        "the page's paragraphs: the brief may miss part of the article (check the page)",
    )


@pytest.mark.parametrize("name", ["article.html", "article_de.html", "article_cp1252.html"])
def test_whole_articles_carry_no_warning(name: str) -> None:
    assert document_from_html((FIXTURES / name).read_bytes(), name=name).warnings == ()


def test_reader_comments_do_not_count_as_what_the_page_holds() -> None:
    from summarizer.sources.extract import paragraph_chars

    article = (FIXTURES / "article.html").read_text(encoding="utf-8")
    comments = (
        '<section id="comments" class="comments-area"><h2>42 comments</h2>'
        + "<p>I have lived on Dock Street for thirty years and never seen a flood like it.</p>" * 60
        + "</section>"
    )
    with_comments = article.replace("</main>", comments + "</main>")
    assert paragraph_chars(with_comments) == paragraph_chars(article)
    doc = document_from_html(with_comments.encode(), name="flood.html")
    assert doc.warnings == () and "Dock Street for thirty years" not in doc.text


def test_a_page_without_paragraph_tags_is_still_compared() -> None:
    # The same review with every <p> a <div>: the page's paragraphs cannot show what was
    # lost, so the default extraction is run anyway, and its fuller text kept.
    html = (FIXTURES / "review_grid.html").read_text(encoding="utf-8")
    html = html.replace("<p>", '<div class="para">').replace("</p>", "</div>")
    doc = document_from_html(html.encode(), name="review.html")
    assert "Four stars." in doc.text and doc.warnings == ()


@pytest.mark.parametrize(
    ("og_title", "site_name"),
    [
        # The site's name, and its slogan, as og:title on every page (a real news site).
        ("The Harbor City Chronicle - Latest News & Headlines", "The Harbor City Chronicle"),
        # No og:site_name, but the page's <title> and <h1> agree on the headline.
        ("Latest News & Headlines", None),
    ],
)
def test_the_headline_wins_when_og_title_names_the_site(
    og_title: str, site_name: str | None
) -> None:
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    html = html.replace(
        'content="Harbor City approves $40m flood barrier after heated vote">',
        f'content="{og_title}">',
        1,
    )
    if site_name is None:
        html = html.replace(
            '<meta property="og:site_name" content="The Harbor City Chronicle">', ""
        )
    doc = document_from_html(html.encode(), name="page.html")
    assert doc.title == "Harbor City approves $40m flood barrier after heated vote"


def test_a_real_og_title_is_kept() -> None:
    # og:title differs from the <h1> but is the article's own (a longer headline): kept.
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    html = html.replace(
        'content="Harbor City approves $40m flood barrier after heated vote">',
        'content="Harbor City approves $40m flood barrier after heated 7-4 vote">',
        1,
    ).replace("heated vote | The Harbor", "heated 7-4 vote | The Harbor", 1)
    doc = document_from_html(html.encode(), name="page.html")
    assert doc.title == "Harbor City approves $40m flood barrier after heated 7-4 vote"
