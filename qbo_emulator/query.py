"""QBO's query language: parse a statement and run it against a company's objects."""

import copy
import re

from .store import LIST_ENTITIES, canon_entity, id_sort_key
from .util import parse_time, parser_error

DEFAULT_PAGE = 100
MAX_PAGE = 1000  # a larger MAXRESULTS is served as 1000, as QBO does
MAX_DIGITS = 30  # longer numbers are refused: no field holds them, and int() of thousands of digits fails

_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:[^'\\]|\\.|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])"
    r"|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),*])"
    r"|(?P<ident>[A-Za-z_][\w.]*)"
    r")"
)
KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "orderby",
    "order",
    "by",
    "asc",
    "desc",
    "startposition",
    "maxresults",
    "in",
    "like",
    "count",
    "true",
    "false",
}


class Query:
    """A parsed statement."""

    def __init__(self):
        self.entity = None
        self.count = False
        self.fields = None  # None means *
        self.conditions = []  # (field, op, value)
        self.order = []  # (field, descending)
        self.start = 1
        self.max_results = DEFAULT_PAGE


def tokenize(text):
    tokens = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise parser_error(f'Encountered " "{text[pos]}" " at line 1, column {pos + 1}.')
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "str":
            value = raw[1:-1].replace("\\'", "'").replace("''", "'").replace("\\\\", "\\")
        elif kind == "num":
            if len(raw) > MAX_DIGITS:
                raise parser_error(f"The number at line 1, column {m.start(kind) + 1} has too many digits.")
            value = float(raw) if "." in raw else int(raw)
        else:
            value = raw
        tokens.append((kind, value, m.start(kind) + 1))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text) + 1)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, tok=None, expected=None):
        kind, value, col = tok or self.peek()
        shown = "<EOF>" if kind is None else str(value)
        msg = f'Encountered " "{shown}" " at line 1, column {col}.'
        if expected:
            msg += f" Was expecting: {expected}"
        raise parser_error(msg)

    def keyword(self, word, required=True):
        kind, value, _col = self.peek()
        if kind == "ident" and str(value).lower() == word:
            self.i += 1
            return True
        if required:
            self.fail(expected=word.upper())
        return False

    def ident(self):
        tok = self.take()
        if tok[0] != "ident" or str(tok[1]).lower() in KEYWORDS - {"count"}:
            self.fail(tok, "a field name")
        return tok[1]

    def literal(self):
        tok = self.take()
        kind, value, _col = tok
        if kind in ("str", "num"):
            return value
        if kind == "ident" and str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        self.fail(tok, "a value")
        return None

    def integer(self):
        tok = self.take()
        if tok[0] != "num" or not isinstance(tok[1], int):
            self.fail(tok, "an integer")
        return tok[1]

    def parse(self):
        q = Query()
        self.keyword("select")
        kind, value, _col = self.peek()
        if kind == "punct" and value == "*":
            self.take()
            # "SELECT *, Sku FROM Item" (python-quickbooks' Item.all) is SELECT *: every field comes back
            while self.peek()[1] == ",":
                self.take()
                self.ident()
        elif kind == "ident" and str(value).lower() == "count":
            self.take()
            for expected in ("(", "*", ")"):
                tok = self.take()
                if tok[1] != expected:
                    self.fail(tok, expected)
            q.count = True
        else:
            q.fields = [self.ident()]
            while self.peek()[1] == ",":
                self.take()
                q.fields.append(self.ident())
        self.keyword("from")
        tok = self.take()
        entity = canon_entity(tok[1]) if tok[0] == "ident" else None
        if entity is None:
            if tok[0] == "ident":
                raise parser_error(f"Invalid entity '{tok[1]}' at line 1, column {tok[2]}.")
            self.fail(tok, "an entity name")
        q.entity = entity
        if self.keyword("where", required=False):
            q.conditions.append(self.condition())
            while self.keyword("and", required=False):
                q.conditions.append(self.condition())
        if self.keyword("orderby", required=False) or (
            self.keyword("order", required=False) and self.keyword("by")
        ):
            q.order.append(self.order_item())
            while self.peek()[1] == ",":
                self.take()
                q.order.append(self.order_item())
        while self.peek()[0] is not None:
            if self.keyword("startposition", required=False):
                n = self.integer()
                if n < 0:
                    raise parser_error(f"STARTPOSITION must be 1 or more, not {n}.")
                q.start = max(n, 1)  # 0 reads as the first row
            elif self.keyword("maxresults", required=False):
                n = self.integer()
                if n < 1:
                    raise parser_error(f"MAXRESULTS must be at least 1, not {n}.")
                q.max_results = min(n, MAX_PAGE)
            else:
                self.fail(expected="STARTPOSITION, MAXRESULTS or end of statement")
        return q

    def condition(self):
        field = self.ident()
        tok = self.take()
        kind, value, _col = tok
        if kind == "op" and value in ("=", "<", ">", "<=", ">="):
            return (field, value, self.literal())
        if kind == "ident" and str(value).lower() == "in":
            tok = self.take()
            if tok[1] != "(":
                self.fail(tok, "(")
            values = [self.literal()]
            while self.peek()[1] == ",":
                self.take()
                values.append(self.literal())
            tok = self.take()
            if tok[1] != ")":
                self.fail(tok, ")")
            return (field, "in", values)
        if kind == "ident" and str(value).lower() == "like":
            pattern = self.literal()
            if not isinstance(pattern, str):
                self.fail(tok, "a quoted pattern")
            return (field, "like", pattern)
        self.fail(tok, "one of = < > <= >= IN LIKE")
        return None

    def order_item(self):
        field = self.ident()
        desc = False
        if self.keyword("desc", required=False):
            desc = True
        else:
            self.keyword("asc", required=False)
        return (field, desc)


def parse(text):
    if not isinstance(text, str) or not text.strip():
        raise parser_error("Empty query.")
    return _Parser(text).parse()


# === EVALUATION === #


def field_value(obj, path):
    """Value at a dotted path (case-insensitive keys); a reference yields its value."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            if part in cur:
                cur = cur[part]
            else:
                low = part.lower()
                cur = next((v for k, v in cur.items() if k.lower() == low), None)
        else:
            return None
        if cur is None:
            return None
    if isinstance(cur, dict):
        # references filter by their id; e-mail, phone and web address objects by their text
        for key in ("value", "Address", "FreeFormNumber", "URI"):
            if key in cur:
                return cur[key]
    return cur


def _sortable(value):
    """A key making numbers, dates and text comparable the way QBO compares them."""
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (2, float(value), "")
    text = str(value)
    head = text.lstrip()[:1]
    if not (head.isdigit() or head in ("+", "-", ".")):
        # neither a date nor a number: skip the parsers (an item list of 20,000 compares a lot of text)
        return (4, 0, text.casefold())
    ts = parse_time(text)
    if ts is not None:
        return (3, ts, "")
    try:
        return (2, float(text), "")
    except ValueError:
        return (4, 0, text.casefold())


def _compare(actual, op, literal):
    if actual is None:
        return False
    if isinstance(literal, bool) or isinstance(actual, bool):
        a = str(actual).lower() == "true"
        b = literal if isinstance(literal, bool) else str(literal).lower() == "true"
        return _apply(op, a, b)
    ka, kb = _sortable(actual), _sortable(literal)
    if ka[0] != kb[0]:
        # mixed kinds compare as text, which is what a string field holding digits needs
        ka, kb = (4, 0, str(actual).casefold()), (4, 0, str(literal).casefold())
    return _apply(op, ka, kb)


def _apply(op, a, b):
    if op == "=":
        return a == b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _like(actual, pattern):
    """LIKE with `%` wildcards, without case, in one left-to-right pass: no pattern can stall the server.

    (A regex of `.*` runs backtracks exponentially in the number of `%` on patterns like '%a%a%a…%b'.)
    """
    if actual is None:
        return False
    text, pattern = str(actual).casefold(), pattern.casefold()
    if "%" not in pattern:
        return text == pattern
    first, *middle, last = pattern.split("%")
    if not text.startswith(first) or len(text) < len(first) + len(last):
        return False
    pos, end = len(first), len(text) - len(last)
    for part in middle:
        # the leftmost match of each piece leaves the most room for the rest
        found = text.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return text.endswith(last)


def matches(obj, conditions):
    for field, op, value in conditions:
        actual = field_value(obj, field)
        if op == "in":
            if not any(_compare(actual, "=", v) for v in value):
                return False
        elif op == "like":
            if not _like(actual, value):
                return False
        elif not _compare(actual, op, value):
            return False
    return True


def run(company, text):
    """Execute a statement for a company; returns the QueryResponse dict."""
    q = parse(text) if isinstance(text, str) else text
    conditions = list(q.conditions)
    if q.entity in LIST_ENTITIES and not any(f.lower() == "active" for f, _op, _v in conditions):
        # QBO hides inactive list records unless the query asks about Active
        conditions.append(("Active", "=", True))
    rows = [o for o in company.objects[q.entity].values() if matches(o, conditions)]
    if q.count:
        return {"totalCount": len(rows)}
    rows.sort(key=lambda o: id_sort_key(o["Id"]))
    for field, desc in reversed(q.order):
        rows.sort(key=lambda o, f=field: _sortable(field_value(o, f)), reverse=desc)
    page = rows[q.start - 1 : q.start - 1 + q.max_results]
    if not page:
        return {}
    if q.fields is None:
        out = [copy.deepcopy(o) for o in page]
    else:
        out = []
        for o in page:
            picked = {"Id": o["Id"], "SyncToken": o["SyncToken"], "domain": "QBO", "sparse": True}
            for f in q.fields:
                top = f.split(".")[0]
                key = next((k for k in o if k.lower() == top.lower()), None)
                if key is not None:
                    picked[key] = copy.deepcopy(o[key])
            picked["MetaData"] = copy.deepcopy(o["MetaData"])
            out.append(picked)
    return {q.entity: out, "startPosition": q.start, "maxResults": len(out)}
