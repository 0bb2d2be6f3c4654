"""The blended ranker: the customer's own purchases (buy-again) plus the two-tower model.

Score = two-tower cosine (in [-1, 1]) + weight x buy-again score scaled to [0, 1] per customer.
With the default weight the customer's regular items lead the list in buy-again order (the two
tower only breaks near-ties), and new items are ranked by the two-tower model. With "already
purchased" excluded, the list is the two-tower model's.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from recsys.base import BaseRecommender
from recsys.baselines import BuyAgain
from recsys.data import TrainData
from recsys.errors import RecsysError
from recsys.train import TwoTowerRecommender


class BlendRecommender(BaseRecommender):
    """Buy-again + two-tower; `fit` trains the two-tower model unless it is already fitted."""

    name = "blend(buy-again+two-tower)"

    def __init__(self, two_tower: TwoTowerRecommender, buy_again_weight: float = 4.0) -> None:
        if buy_again_weight < 0:
            raise RecsysError(f"buy_again_weight: must be >= 0, got {buy_again_weight}")
        self.two_tower = two_tower
        self.buy_again = BuyAgain()
        self.buy_again_weight = buy_again_weight

    def fit(self, data: TrainData) -> Self:
        if self.two_tower.net is None:
            self.two_tower.fit(data)
        self.buy_again.fit(data)
        return self

    def score(self, data: TrainData, users: np.ndarray) -> np.ndarray:
        own = self.buy_again.own_scores(data, users)
        top = own.max(axis=1, keepdims=True)
        scaled = np.divide(own, top, out=np.zeros_like(own), where=top > 0)
        return self.two_tower.score(data, users) + self.buy_again_weight * scaled

    def item_similarity(self, data: TrainData, items: np.ndarray) -> np.ndarray:
        return self.two_tower.item_similarity(data, items)
