"""`summarizer site`: the store's briefs, stories, questions and spend as a static site.

The site works opened from disk, served by any web server or published by cron after
`daily`: every link is relative, every picture is a file beside its page, and nothing in
it requests anything outside the site (no script, font or style from the network).

Pages have stable addresses (`days/DATE.html`, `stories/ID.html`), so a Slack message or
the API can link to them (the `site_url` setting). A rebuild writes only the files whose
content changed, each one written to a temporary file and renamed over the old one, and
pictures and story pages before the day pages and the index that link to them, so a
reader following a link never meets half a page or a page that is not there yet. Pages of
days and stories outside `--since`/`--days` are left as they are: the archive keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.errors import ConfigError, InputError

if TYPE_CHECKING:
    from summarizer.core.schemas import DailyBrief
    from summarizer.store import Store

INDEX_DAYS = 14  # days the index shows in full; older ones are listed by date


@dataclass
class SiteReport:
    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    days: int = 0
    stories: int = 0
    pictures_missing: str | None = None


class _Writer:
    def __init__(self, out: Path, report: SiteReport) -> None:
        self.out = out
        self.report = report

    def put(self, rel: str, text: str) -> None:
        from summarizer.plumbing.atomic import write_text

        path = self.out / rel
        try:
            if path.read_text(encoding="utf-8") == text:
                self.report.unchanged += 1
                return
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        write_text(path, text)
        self.report.written.append(rel)


def window_start(since: str | None, days: int | None, today: date) -> str | None:
    """The first day built: the later of --since and today minus --days (whole days)."""
    starts = []
    if since is not None:
        try:
            starts.append(date.fromisoformat(since))
        except ValueError:
            raise ConfigError(f"--since {since}: not a date; use YYYY-MM-DD") from None
    if days is not None:
        if days < 1:
            raise ConfigError(f"--days {days}: use a number of days, 1 or more")
        starts.append(today - timedelta(days=days - 1))
    return max(starts).isoformat() if starts else None


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").exists():
        # Never mix the site into a folder that holds something else (a home directory).
        raise InputError(
            f"--out {out}: a folder that is not empty and holds no site; "
            "give an empty or new folder, or the folder of an earlier build"
        )


def build_site(
    store: Store,
    out: Path,
    *,
    since: str | None = None,
    days: int | None = None,
    today: date | None = None,
) -> SiteReport:
    """Build (or update) the site in `out` from `store`."""
    from summarizer.core.schemas import DailyBrief, LedgerQuestion
    from summarizer.site import charts, pages
    from summarizer.stories import ledger

    _check_out(out)
    start = window_start(since, days, today or date.today())
    report = SiteReport(out=out)
    writer = _Writer(out, report)
    built = pages.built_stamp()

    dailies: list[DailyBrief] = [
        DailyBrief.model_validate_json(row["body_json"]) for row in store.daily_days(start)
    ]
    report.days = len(dailies)
    fixture = any(d.provenance.fixture for d in dailies)

    draw = charts.available()
    if not draw:
        report.pictures_missing = charts.EXTRA_HINT

    writer.put("style.css", pages.stylesheet())

    # Stories first (and their pictures), then the pages that link to them.
    index = store.story_index()
    in_window = [s for s in index if start is None or s["last_day"] >= start]
    titles = {s["story_id"]: s["title"] for s in index}
    all_questions: list[LedgerQuestion] = ledger.questions(store)
    for s in in_window:
        story = ledger.story(store, s["story_id"])
        picture = None
        if draw:
            days_list, rows = pages.stance_grid(story)
            if rows:
                cells = [
                    charts.StanceCell(row["label"], day, cell)
                    for row in rows
                    for day, cell in zip(days_list, row["cells"], strict=True)
                    if cell
                ]
                writer.put(
                    f"stories/{s['story_id']}-stances.svg", charts.stance_history(cells, days_list)
                )
                picture = f"{s['story_id']}-stances.svg"
        questions = [q for q in all_questions if q.story_id == s["story_id"]]
        writer.put(
            f"stories/{s['story_id']}.html",
            pages.story_page(
                story,
                questions,
                picture=picture,
                pictures_missing=report.pictures_missing,
                fixture=fixture,
            ),
        )
    report.stories = len(in_window)
    writer.put("stories/index.html", pages.stories_page(index))

    for daily in dailies:
        writer.put(f"days/{daily.date}.html", pages.day_page(daily))

    writer.put("questions.html", pages.questions_page(all_questions, titles))

    spend_rows = store.spend_by_day(start)
    spend_picture = None
    if draw and spend_rows:
        writer.put("spend.svg", charts.spend(spend_rows))
        spend_picture = "spend.svg"
    writer.put(
        "spend.html",
        pages.spend_page(
            spend_rows,
            picture=spend_picture,
            pictures_missing=report.pictures_missing,
            since=start,
        ),
    )

    # The index last: everything it links to is in place.
    older = sorted(
        {p.stem for p in (out / "days").glob("*.html")} - {d.date for d in dailies[:INDEX_DAYS]},
        reverse=True,
    )
    writer.put(
        "index.html",
        pages.index_page(dailies[:INDEX_DAYS], older, since=start, built=built),
    )
    return report


def describe(report: SiteReport) -> list[str]:
    """What the command says on stderr: what was built, and what is missing and why."""
    from summarizer.render.notices import plural

    lines = [
        f"site: {report.out}/index.html — {plural(report.days, 'day')}, "
        f"{plural(report.stories, 'story', 'stories')}; "
        f"{plural(len(report.written), 'file')} written, {report.unchanged} unchanged"
    ]
    if report.pictures_missing:
        lines.append(f"site: built without pictures: {report.pictures_missing}")
    return lines
