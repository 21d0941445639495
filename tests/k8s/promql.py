"""Metric names (and equality matchers) named by a PromQL expression or a Grafana query, without a server.

Enough of PromQL for the chart's rules and dashboards: string literals, label matchers, ranges, numbers and
durations are consumed whole; an identifier followed by "(" is a function or aggregation; the label lists after
by/without/on/ignoring/group_left/group_right are skipped; every other identifier is a metric name. Grafana's
``$variables`` and ``label_values(metric, label)`` are understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(r"""
    (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<matchers>\{(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^}"'])*\})
  | (?P<range>\[[^\]]*\])
  | (?P<num>(?<![\w:])(?:0x[0-9a-fA-F]+|(?:\d+(?:ms|[smhdwy]))+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w:]))
  | (?P<ident>[A-Za-z_:][\w:]*)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<other>\S)
""", re.VERBOSE)
MATCHER = re.compile(r"""([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
GRAFANA_VAR = re.compile(r"\$(?:\{\w+(?::\w+)?\}|\w+)")
LABEL_VALUES = re.compile(r"label_values\(\s*(?:(?P<expr>.*),)?\s*\w+\s*\)\s*$", re.DOTALL)


@dataclass(frozen=True)
class Selector:
    """A metric named in a query, with its equality matchers (label -> value)."""

    name: str
    equal: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def _equal(block: str) -> dict[str, str]:
    return {label: value[1:-1] for label, op, value in MATCHER.findall(block) if op == "="}


def _skip_group(tokens: list[tuple[str, str]], i: int) -> int:
    """Index after the parenthesised group starting at ``tokens[i]``."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"lparen": 1, "rparen": -1}.get(tokens[j][0], 0)
        if depth == 0:
            return j + 1
    raise ValueError("unbalanced parentheses")


def selectors(expr: str) -> list[Selector]:
    """Every metric selector in ``expr`` (a PromQL expression or a Grafana ``label_values`` query)."""
    if m := LABEL_VALUES.match(expr.strip()):
        expr = m["expr"] or ""
    expr = GRAFANA_VAR.sub("x", expr)
    tokens = [(m.lastgroup or "", m.group()) for m in TOKEN.finditer(expr)]
    out: list[Selector] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "ident" and text in LABEL_LISTS and nxt[0] == "lparen":
            i = _skip_group(tokens, i + 1)
            continue
        aggregation = nxt[0] == "lparen" or nxt[1] in ("by", "without")
        if kind == "ident" and text not in KEYWORDS and not aggregation:
            out.append(Selector(text, _equal(nxt[1]) if nxt[0] == "matchers" else {}))
        elif kind == "matchers" and (i == 0 or tokens[i - 1][0] != "ident"):
            name = _equal(text).get("__name__")
            if name is None:
                raise ValueError(f"selector without a metric name: {text}")
            out.append(Selector(name, _equal(text)))
        i += 1
    return out
