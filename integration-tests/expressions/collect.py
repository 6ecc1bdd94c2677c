#!/usr/bin/env python3
"""Collects the expression corpus: every expression of the suite's specs (compiled
Vega, from expected/) plus hand-picked edge cases. Then
`node ../harness/parse-corpus.mjs corpus.json > expected.json` records vega's trees."""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TRICKY = [
    "a ? b : c ? d : e", "!a === b", "-a.b.c", "+-+x", "~x", "a % b * c / d", "1e21 + .5 - 0x1F", "'\\u0041\\x41\\n\\t\\\\'",
    "datum['a b'][0]", "f(g(h()), [1, [2]], {a: 1, 'b c': {d: 2}})", "a >>> 2 << 1 >> 3", "a & b | c ^ d", "a in b",
    "x == null || y != undefined", "a !== b && c === d", "/ab+c/gi", "test(/[/]\\//, s)", "a / b / c", "(a, b)", "a = 1",
    "x++", "typeof x", "new Date()", "this.x", "function() {}", "a.b(1)", "1 2", "'unterminated", "[1, 2,", "{a: 1", "a ?? b",
    "a?.b", "`template`", "a => a", "", "   ", "1..toString()", "(1).toString", "a[b][c](d)", "-0", "0.0000001", "1e-7",
    "datum.if", "if(a, b, c)", "{if: 1}.if", "{x: 1, y: 2, x: 3}", "{x: 1, 'x': 2}", "{1: 1, '1': 2}", "[,]", "{}", "[]", "x ? : y", "07", "0b101", "'a' + 'b' + 1 + 2",
]


def walk(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "update", "init", "test", "signal") and isinstance(v, str):
                out.append(v)
            else:
                walk(v, out)
    elif isinstance(node, list):
        for x in node:
            walk(x, out)


exprs = []
for f in sorted(glob.glob(os.path.join(HERE, "..", "expected", "*.json"))):
    walk(json.load(open(f))["spec"], exprs)
corpus = list(dict.fromkeys(exprs + TRICKY))
json.dump(corpus, open(os.path.join(HERE, "corpus.json"), "w"), indent=1)
print(f"{len(corpus)} expressions")
