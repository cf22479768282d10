"""Pure helpers of the news feature: HTML stripping, LIKE escaping, sentiment labels, symbol tagging, settings."""

import shutil
import subprocess
import sys

import pytest

from backend.settings import ConfigError, Settings
from utils.reference_data import STOCKS_FILE, load_news_aliases, load_stocks
from utils.sentiment import label_for, score_text
from utils.symbol_matcher import SymbolMatcher, name_variants
from utils.text import like_contains, strip_html, truncate


@pytest.mark.parametrize(
    "html,text",
    [
        ("<p>Shares <b>rose</b> 4%</p>", "Shares rose 4%"),
        ("Profit &amp; loss &gt; 5&nbsp;crore &#8377;", "Profit & loss > 5 crore ₹"),
        ("<script>alert('x')</script><style>p{}</style>Visible", "Visible"),
        ("line one<br/>line two<div>three</div>", "line one line two three"),
        ("<a href='https://x.test'>link</a> text <img src='a.png'>", "link text"),
        ("unclosed <b>bold", "unclosed bold"),
        ("  spaced \n\t out  ", "spaced out"),
        ("a < b and c > d", "a < b and c > d"),
        ("", ""),
        (None, ""),
    ],
)
def test_strip_html_keeps_only_the_text(html, text):
    assert strip_html(html) == text


def test_truncate_cuts_on_a_word_with_an_ellipsis():
    assert truncate("short", 10) == "short"
    cut = truncate("Reliance Industries shares surge after record profit", 30)
    assert len(cut) <= 30 and cut.endswith("…") and cut.startswith("Reliance Industries")


def test_like_contains_makes_wildcards_literal():
    assert like_contains("5%_off!") == "%5!%!_off!!%"


@pytest.mark.parametrize(
    "headline,label",
    [
        ("Reliance Industries shares surge 4% after record quarterly profit", "positive"),
        ("Infosys wins $2 billion deal; stock rallies", "positive"),
        ("HDFC Bank upgraded to buy, shares jump to a record high", "positive"),
        ("Sensex crashes 1,200 points as banks tumble on fraud probe", "negative"),
        ("TCS shares fall 3% after weak quarterly results", "negative"),
        ("Adani stocks plunge after short seller report; investors fear losses", "negative"),
        ("RBI keeps repo rate unchanged at 6.5%", "neutral"),
        ("Board meeting scheduled on Friday", "neutral"),
    ],
)
def test_sentiment_labels_on_clear_headlines(headline, label):
    sentiment = score_text(headline)
    assert sentiment.label == label, sentiment
    assert -1 <= sentiment.score <= 1


def test_label_thresholds_are_vaders():
    assert [label_for(x) for x in (0.05, 0.0499, 0.0, -0.0499, -0.05)] == [
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
    ]


@pytest.fixture(scope="module")
def matcher():
    return SymbolMatcher(
        ((i, s.symbol, s.company_name) for i, s in enumerate(load_stocks(), start=1)), load_news_aliases()
    )


def symbols(matcher, text):
    return [symbol for _, symbol in matcher.find(text)]


def test_company_names_and_symbols_are_tagged(matcher):
    assert symbols(matcher, "Reliance Industries gains; TCS and Infosys slip") == ["RELIANCE", "TCS", "INFY"]
    assert symbols(matcher, "Tata Consultancy Services wins a deal") == ["TCS"]
    assert symbols(matcher, "Bharat Petroleum and HDFC Bank's results") == ["BPCL", "HDFCBANK"]


def test_symbols_are_whole_words(matcher):
    assert symbols(matcher, "TCS-led rally") == ["TCS"]
    assert symbols(matcher, "TCSX and XTCS are not listed; tcs in lower case is not a ticker") == []
    assert symbols(matcher, "M&M and M&MFIN") == ["M&M", "M&MFIN"]


def test_the_longest_name_wins(matcher):
    assert symbols(matcher, "State Bank of India and Bank of India") == ["SBIN", "BANKINDIA"]
    assert symbols(matcher, "Tata Motors Passenger Vehicles") == ["TMPV"]


def test_common_words_and_the_exchange_are_not_tickers(matcher):
    assert symbols(matcher, "Oil prices rise; BSE Sensex flat; a new Idea") == []
    assert symbols(matcher, "BSE Ltd shares jump; Oil India and Vodafone Idea gain") == ["BSE", "OIL", "IDEA"]


def test_name_variants_drop_legal_suffixes():
    assert name_variants("Reliance Industries Ltd.") == {"Reliance Industries"}
    assert name_variants("Bharat Petroleum Corporation Ltd.") == {"Bharat Petroleum Corporation", "Bharat Petroleum"}
    assert name_variants("BSE Ltd.") == {"BSE Ltd", "BSE Limited"}


def test_news_feeds_setting_is_a_comma_list_of_http_urls(monkeypatch):
    monkeypatch.setenv("NEWS_FEEDS", "https://a.test/rss, http://b.test/atom.xml")
    assert Settings.load(_env_file=None).news_feeds == ["https://a.test/rss", "http://b.test/atom.xml"]
    monkeypatch.setenv("NEWS_FEEDS", "")
    assert Settings.load(_env_file=None).news_feeds == []
    monkeypatch.setenv("NEWS_FEEDS", "file:///etc/passwd")
    with pytest.raises(ConfigError, match="NEWS_FEEDS"):
        Settings.load(_env_file=None)


def test_short_names_headlines_use_are_tagged(matcher):
    assert symbols(matcher, "SBI, L&T and HUL lead; Maruti Suzuki and Airtel slip") == [
        "SBIN",
        "LT",
        "HINDUNILVR",
        "MARUTI",
        "BHARTIARTL",
    ]
    assert symbols(matcher, "SBI Life and LIC Housing Finance; LIC itself flat") == ["SBILIFE", "LICHSGFIN", "LICI"]
    assert symbols(matcher, "SBIs and sbi are not the bank") == []


def test_every_news_alias_names_a_listed_stock_once(tmp_path):
    assert all(symbol in {s.symbol for s in load_stocks()} for symbol in load_news_aliases().values())
    shutil.copy(STOCKS_FILE, tmp_path / "stocks.csv")  # aliases are checked against the stocks.csv beside them
    bad = tmp_path / "aliases.csv"
    bad.write_text("alias,symbol\nSBI,NOSUCH\n")
    with pytest.raises(ValueError, match="unknown symbol 'NOSUCH'"):
        load_news_aliases(bad)
    bad.write_text("alias,symbol\nSBI,SBIN\nSBI,SBILIFE\n")
    with pytest.raises(ValueError, match="duplicate alias 'SBI'"):
        load_news_aliases(bad)


def test_aliases_of_stocks_outside_the_universe_are_ignored():
    assert SymbolMatcher([(7, "SBIN", "State Bank of India")], {"SBI": "SBIN", "L&T": "LT"}).find("SBI and L&T") == [
        (7, "SBIN")
    ]


def test_the_word_lists_load_when_a_text_is_scored_and_keep_no_file_text():
    code = (
        "from backend.settings import Settings; from backend.app import create_app; from utils import sentiment; "
        "create_app(Settings.load(_env_file=None, app_env='test', database_url='mysql://a:b@127.0.0.1:1/x', "
        "news_feeds='', socketio_async_mode='threading')); "
        "print(sentiment._analyzer is None); sentiment.score_text('Shares surge'); "
        "print(sentiment._analyzer is not None, sentiment._analyzer.lexicon_full_filepath == '', "
        "sentiment._analyzer.emoji_full_filepath == '', sentiment.score_text('Stocks crash :(').label)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "True", "True", "negative"], done.stdout
