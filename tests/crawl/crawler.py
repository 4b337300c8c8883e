"""A crawler for the whole UI: follows every link and submits every GET form a user sees, and checks each page.

A page fails when it answers 5xx, when a link on a page leads to a 4xx, when an HTML page lacks the site's
layout (header and footer), when a Chinese page shows English words or code identifiers, or when an English page
shows a Chinese UI string. Data (names, addresses, usernames) is not UI text: templates mark it with
`translate="no"` or put it in <code>, and the check skips those, like everything inside another language's
`lang` attribute.

One crawler (`every_object`; the test gives it to the administrator) visits every object page (each case,
resident, household, file…); other pages with a key in their path (…/edit/, …/qr/) and every page of the other
crawlers stop at `max_per_object_pattern` of one kind. Each URL pattern with a query string is
followed at most `max_per_query_pattern` times per user, so filters and pages of a list don't multiply without end.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

# Not crawled: Django's admin (its own, translated UI), the API (fuzzed by schemathesis), static files.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/i18n/")
VOID_TEXT_TAGS = {"script", "style", "code", "kbd", "samp", "pre", "svg", "textarea", "noscript"}
# Words that are the same in Chinese UIs: file formats, acronyms of the trade, the product's own name.
LATIN_ALLOWED = {
    "xlsx", "csv", "api", "qr", "icu", "pdf", "svg", "id", "ct", "pcr", "excel", "wechat", "gb", "openapi",
    "http", "https", "www", "token", "bearer", "json", "utf", "gbk", "ip", "url", "sms", "app", "ok", "png", "wgs", "mb", "kb", "kwh",
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*")
URL = re.compile(r"(?:https?://|/)[\w./?=&%#:+-]*")
CJK = re.compile(r"[\u4e00-\u9fff]")


class _Page(HTMLParser):
    """Links, GET forms and the visible text (with where it came from) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.texts: list[str] = []
        self.has_header = self.has_footer = False
        self._stack: list[tuple[str, bool]] = []  # (tag, text hidden from the language check)
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        classes = a.get("class", "").split()
        if "site-header" in classes:
            self.has_header = True
        if "site-footer" in classes:
            self.has_footer = True
        hidden = (self._hidden() or tag in VOID_TEXT_TAGS or a.get("translate") == "no"
                  or ("lang" in a and tag != "html"))
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area"}:
            self._stack.append((tag, hidden))
        if not hidden:
            for name in ("placeholder", "title", "aria-label", "alt"):
                if a.get(name):
                    self.texts.append(a[name])
            if tag == "input" and a.get("type") in {"submit", "button"} and a.get("value"):
                self.texts.append(a["value"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = {"action": a.get("action", ""), "method": method, "fields": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            kind = a.get("type", "text").lower()
            if "name" not in a or kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form["fields"].append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "selected": None, "multiple": "multiple" in a}
        elif self._select is not None and tag == "option":
            value = a.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["selected"] = value
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self._form is not None:
            chosen = self._select["selected"]
            if chosen is None and not self._select["multiple"]:
                chosen = self._select["first"]
            if chosen is not None:
                self._form["fields"].append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].append((self._textarea["name"], self._textarea["text"]))
            self._textarea = None
        elif tag == "form":
            self._form = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] += data
        text = data.strip()
        if text and not self._hidden():
            self.texts.append(text)


@dataclass
class Problem:
    user: str
    url: str
    what: str
    source: str = ""

    def __str__(self) -> str:
        return f"[{self.user}] {self.url}: {self.what}" + (f" (linked from {self.source})" if self.source else "")


@dataclass
class CrawlResult:
    pages: Counter = field(default_factory=Counter)  # user -> pages fetched
    problems: list[Problem] = field(default_factory=list)
    patterns: Counter = field(default_factory=Counter)  # URL pattern -> pages fetched


def english_words(texts: Iterable[str], data_words: frozenset[str] = frozenset()) -> list[str]:
    """Latin words in a Chinese page's UI text that are not allowed there (`data_words`, e.g. usernames and
    uploaded file names, are)."""
    found = []
    for text in texts:
        for word in LATIN_WORD.findall(URL.sub(" ", text)):
            if word in data_words:
                continue
            word = re.sub(r"[-\d]+$", "", word)
            if not word:
                continue
            if (word.lower() not in LATIN_ALLOWED and word not in data_words
                    and not re.fullmatch(r"[A-Z]\d*", word)):
                found.append(word)
    return found


ACTION_WORDS = {"open", "edit", "new", "qr", "print", "export", "delete", "report"}


def _is_object_page(route: str) -> bool:
    """An object page's pattern ends in its key after a noun (residents/<int:pk>/), an action page's in a verb
    (cases/open/<int:resident_pk>/) or after the key (…/<int:pk>/edit/)."""
    parts = route.strip("/").split("/")
    return len(parts) >= 2 and parts[-1].startswith("<") and parts[-2] not in ACTION_WORDS


def _pattern(path: str) -> str:
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return match.route or path


class Crawler:
    def __init__(self, client: Client, user: str, *, language: str, chinese_ui_strings: set[str],
                 result: CrawlResult, max_per_query_pattern: int = 8, max_per_object_pattern: int = 12,
                 every_object: bool = False, data_words: frozenset[str] = frozenset(),
                 skip: Callable[[str], bool] | None = None) -> None:
        self.client, self.user, self.language = client, user, language
        self.chinese_ui_strings = chinese_ui_strings
        self.result = result
        self.max_per_query_pattern = max_per_query_pattern
        self.max_per_object_pattern = max_per_object_pattern
        self.every_object = every_object
        self.data_words = data_words
        self.skip = skip or (lambda url: False)
        self.seen: set[str] = set()
        self.per_query_pattern: Counter = Counter()

    def _normal(self, href: str, base: str) -> str | None:
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            return None
        parts = urlsplit(urljoin("http://testserver" + base, href))
        if parts.netloc != "testserver" or parts.path.startswith(SKIP_PREFIXES):
            return None
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return parts.path + (f"?{query}" if query else "")

    def _admit(self, url: str) -> bool:
        if url in self.seen or self.skip(url):
            return False
        path, _, query = url.partition("?")
        route = _pattern(path)
        object_page = _is_object_page(route)
        if "<" in route and not (self.every_object and object_page):
            if self.per_query_pattern[route] >= self.max_per_object_pattern:
                return False
            self.per_query_pattern[route] += 1
        if query:
            key = (route, tuple(sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)})))
            if self.per_query_pattern[key] >= self.max_per_query_pattern:
                return False
            self.per_query_pattern[key] += 1
        self.seen.add(url)
        return True

    def crawl(self, starts: Iterable[str]) -> None:
        queue: deque[tuple[str, str]] = deque()
        for url in starts:
            if self._admit(url):
                queue.append((url, ""))
        while queue:
            url, source = queue.popleft()
            for link in self._visit(url, source):
                if self._admit(link):
                    queue.append((link, url))

    def _visit(self, url: str, source: str) -> list[str]:
        response = self.client.get(url, follow=True)
        self.result.pages[self.user] += 1
        self.result.patterns[_pattern(url.partition("?")[0])] += 1
        status = response.status_code
        if status >= 500 or (status >= 400 and source):
            self.result.problems.append(Problem(self.user, url, f"answered {status}", source))
        if "text/html" not in response.get("Content-Type", "") or status >= 500:
            return []
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        final = self._normal(final, url) or url
        page = _Page()
        page.feed(response.content.decode("utf-8", "replace"))
        if not (page.has_header and page.has_footer) and not _is_print_page(response):
            self.result.problems.append(Problem(self.user, url, "page without the site's layout", source))
        self._check_language(url, page, source)
        links = [n for n in (self._normal(h, final) for h in page.links) if n]
        for form in page.forms:
            if form["method"] != "get":
                continue
            action = self._normal(form["action"] or final.partition("?")[0], final)
            if action:
                query = urlencode(sorted(form["fields"]))
                links.append(action.partition("?")[0] + (f"?{query}" if query else ""))
        return links

    def _check_language(self, url: str, page: _Page, source: str) -> None:
        if self.language == "zh-hans":
            words = english_words(page.texts, self.data_words)
            if words:
                self.result.problems.append(Problem(
                    self.user, url, "English or code in the Chinese page: " + ", ".join(sorted(set(words))[:12]), source))
        else:
            chinese = sorted({t for t in page.texts if CJK.search(t) and t in self.chinese_ui_strings})
            if chinese:
                self.result.problems.append(Problem(
                    self.user, url, "Chinese UI text in the English page: " + ", ".join(chinese[:12]), source))


def _is_print_page(response) -> bool:
    # Print-ready documents (notices, worker passes) carry their own layout for paper.
    return b'data-layout="print"' in response.content
