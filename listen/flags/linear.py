"""Tiny linear models stored as JSON: feature name -> weight, plus a bias.

Trained by benchmarks/train_flags.py; inference is a dict lookup per feature,
so no numeric library is needed at run time.
"""

from __future__ import annotations

import json
import math
import os
from itertools import repeat
from typing import Any

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class LinearModel:
    __slots__ = ("bias", "weights", "name", "meta")

    def __init__(self, name: str, bias: float, weights: dict[str, float], meta: dict[str, Any] | None = None):
        self.name = name
        self.meta = meta or {}
        self.bias = bias
        self.weights = weights

    @classmethod
    def load(cls, name: str) -> "LinearModel":
        try:
            with open(os.path.join(_DATA, f"{name}.json"), encoding="utf-8") as fh:
                blob = json.load(fh)
        except FileNotFoundError:
            # An untrained checkout still works on cues alone (see cue_only).
            return cls(name, 0.0, {})
        return cls(name, float(blob["bias"]), blob["weights"], blob.get("meta"))

    @property
    def trained(self) -> bool:
        return bool(self.weights)

    def logit(self, features: list[str]) -> float:
        w = self.weights
        # Features are binary: a repeated bigram counts once, as in training.
        return self.bias + sum(map(w.get, set(features), repeat(0.0)))

    def strongest(self, features: list[str], prefixes: tuple[str, ...], n: int = 2, floor: float = 0.25) -> list[str]:
        """The n features with the largest positive weights, for a reason line."""
        w = self.weights
        scored = sorted(((w[f], f) for f in set(features) if f.startswith(prefixes) and w.get(f, 0.0) >= floor),
                        reverse=True)
        return [f for _, f in scored[:n]]

    def prob(self, features: list[str]) -> float:
        z = self.logit(features)
        if z < -30:
            return 0.0
        if z > 30:
            return 1.0
        return 1.0 / (1.0 + math.exp(-z))
