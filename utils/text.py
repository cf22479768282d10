"""Text helpers: HTML to plain text, LIKE patterns, length limits."""

from __future__ import annotations

from html.parser import HTMLParser

# Content of these elements is never text a reader should see.
_SKIP_CONTENT = frozenset({"script", "style", "noscript", "template", "head", "title"})
# These break a line of text: a space keeps words from running together.
_BREAKS = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "img",
        "hr",
    }
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_CONTENT:
            self._skipping += 1
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(value: str | None) -> str:
    """Plain text of an HTML fragment: tags and scripts dropped, entities decoded, whitespace collapsed."""
    if not value:
        return ""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return " ".join("".join(parser.parts).split())


def truncate(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, on a word boundary with an ellipsis when cut."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


LIKE_ESCAPE = "!"


def like_contains(value: str) -> str:
    """A LIKE pattern matching `value` anywhere, with `%`, `_` and the escape char literal (ESCAPE '!')."""
    escaped = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"
