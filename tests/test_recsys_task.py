"""The in-batch softmax loss against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from recsys.task import retrieval_logits, sampled_softmax_loss


def _vectors() -> tuple[torch.Tensor, torch.Tensor]:
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    return queries, candidates


def test_loss_matches_hand_computation_with_temperature_and_logq() -> None:
    queries, candidates = _vectors()
    # dot products: q0.c0 = 1, q0.c1 = 0.6, q1.c0 = 0, q1.c1 = 0.8; temperature 0.5 doubles them;
    # log q = [log 0.5, log 0.25] is subtracted from each column.
    log_q = torch.log(torch.tensor([0.5, 0.25]))
    loss = sampled_softmax_loss(queries, candidates, torch.tensor([3, 7]), log_q, temperature=0.5)
    l00, l01 = 2.0 - math.log(0.5), 1.2 - math.log(0.25)
    l10, l11 = 0.0 - math.log(0.5), 1.6 - math.log(0.25)
    row0 = -(l00 - math.log(math.exp(l00) + math.exp(l01)))
    row1 = -(l11 - math.log(math.exp(l10) + math.exp(l11)))
    assert float(loss) == pytest.approx((row0 + row1) / 2, abs=1e-6)


def test_accidental_hit_is_not_a_negative() -> None:
    queries, candidates = _vectors()
    same_item = torch.tensor([5, 5])
    logits = retrieval_logits(queries, candidates, same_item, None, temperature=1.0)
    assert logits[0, 1] == float("-inf") and logits[1, 0] == float("-inf")
    # with both negatives masked, each row only has its positive: loss 0
    loss = sampled_softmax_loss(queries, candidates, same_item, None, temperature=1.0)
    assert float(loss) == pytest.approx(0.0, abs=1e-7)
    unmasked = sampled_softmax_loss(
        queries, candidates, same_item, None, temperature=1.0, mask_accidental_hits=False
    )
    assert float(unmasked) > 0.1


def test_temperature_must_be_positive() -> None:
    queries, candidates = _vectors()
    with pytest.raises(ValueError, match="temperature"):
        sampled_softmax_loss(queries, candidates, torch.tensor([0, 1]), temperature=0.0)
