"""`listen flags`: what the corrections are and what they taught, measured on themselves.

Precision and recall are counted on the corrected items only, two ways:
"before" is the shipped detectors at each feed's thresholds (what the user
corrected); "after" is what learning would say of each correction had it
been fitted without it (leave-one-out below ten corrections, 5-fold
cross-validation above), so a model cannot score well by remembering.
"""

from __future__ import annotations

from typing import Any

from listen.flags import learn
from listen.policy import FLAGS, FlagPolicy


def _pr(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    p, r = learn.precision_recall(pairs)
    return {"precision": None if p is None else round(p, 3), "recall": None if r is None else round(r, 3),
            "n": len(pairs)}


def report(config: Any, policy: FlagPolicy, corrected: list[dict[str, Any]]) -> dict[str, Any]:
    examples = policy.examples(corrected)
    measures: dict[str, Any] = {}
    for flag in FLAGS:
        ex = examples[flag]
        if not ex:
            continue
        method = "leave-one-out" if len(ex) < 10 else "5-fold cross-validation"
        measures[flag] = {
            "examples": len(ex),
            "positive": sum(e.label for e in ex),
            "before": _pr([(e.base >= 0, e.label) for e in ex]),
            "after": _pr(learn.cross_validated(ex)),
            "method": method,
        }
    names = [f.name for f in config.feeds] or sorted({c["feed"] for c in corrected})
    feeds = []
    for name in names:
        ff = policy.feed(name)
        row: dict[str, Any] = {"feed": name, "kind": ff.kind, "corrections": sum(c["feed"] == name for c in corrected)}
        for flag, t in (("question", ff.question_threshold), ("negative", ff.negative_threshold)):
            adj = policy.learned.get(flag)
            row[f"{flag}_threshold"] = t
            row[f"{flag}_learned"] = adj.threshold(name, t) if adj is not None else t
        feeds.append(row)
    words = {}
    for flag, adj in policy.learned.items():
        top = sorted(adj.weights.items(), key=lambda kv: -abs(kv[1]))[:8]
        words[flag] = [{"words": f.split(":", 1)[1], "weight": round(w, 2)} for f, w in top]
    return {
        "corrections": [{"id": None if c.get("id") is None else str(c["id"]), "feed": c["feed"],
                         "native_id": c["native_id"], "text": c.get("text"),
                         "question": None if c.get("question") is None else bool(c["question"]),
                         "negative": None if c.get("negative") is None else bool(c["negative"]),
                         "marked_at": c["marked_at"]} for c in corrected],
        "feeds": feeds,
        "measures": measures,
        "words": words,
    }


SHOWN = 30  # corrections listed in the table, the latest


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def render(data: dict[str, Any]) -> Any:
    """`listen flags` for a person: rich renderables, texts made inert."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from listen.text import inert

    parts: list[Any] = []
    if not data["corrections"]:
        parts.append(Text("No corrections yet. Mark a flag that is wrong (or right) with "
                          "`listen mark ID --question/--not-question/--negative/--not-negative`."))
    else:
        t = Table(title="Corrections", show_edge=False, header_style="bold", title_justify="left")
        for col in ("id", "feed", "question", "negative", "text"):
            t.add_column(col)
        shown = data["corrections"][-SHOWN:]  # the latest; --json lists them all
        if len(shown) < len(data["corrections"]):
            parts.append(Text(f"{len(data['corrections']) - len(shown)} earlier corrections not shown "
                              "(listen flags --json lists them all)"))
        for c in shown:
            yn = {True: "yes", False: "no", None: ""}
            t.add_row(c["id"] or "-", Text(inert(c["feed"], limit=20, one_line=True)), yn[c["question"]],
                      yn[c["negative"]], Text(inert(c["text"] or "(item not stored)", limit=70, one_line=True)))
        parts.append(t)
    ft = Table(title="Thresholds per feed (shipped score needed to flag; learned = after your corrections)",
               show_edge=False, header_style="bold", title_justify="left")
    for col in ("feed", "kind", "marks", "question", "learned", "negative", "learned"):
        ft.add_column(col)
    for f in data["feeds"]:
        ft.add_row(Text(inert(f["feed"], limit=24, one_line=True)), f["kind"], str(f["corrections"]),
                   f"{f['question_threshold']:.2f}", f"{f['question_learned']:.2f}",
                   f"{f['negative_threshold']:.2f}", f"{f['negative_learned']:.2f}")
    parts.append(ft)
    for flag, m in data["measures"].items():
        b, a = m["before"], m["after"]
        parts.append(Text(f"{flag}: {m['examples']} corrections ({m['positive']} yes). On them, the shipped "
                          f"detectors: precision {_fmt(b['precision'])}, recall {_fmt(b['recall'])}; after learning "
                          f"({m['method']}): precision {_fmt(a['precision'])}, recall {_fmt(a['recall'])}."))
    for flag, words in data["words"].items():
        if words:
            said = ", ".join(f"{inert(w['words'], limit=30, one_line=True)} {w['weight']:+.2f}" for w in words)
            parts.append(Text(f"{flag}, words learned: {said}"))
    return Group(*parts)
