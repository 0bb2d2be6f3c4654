"""The retrieval task: in-batch sampled softmax with logQ correction and accidental-hit masking.

Shapes: B = batch size (queries), D = embedding size. Query row i's positive is candidate i;
the other B - 1 candidates of the batch are its negatives.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def retrieval_logits(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    candidate_ids: torch.Tensor,
    log_q: torch.Tensor | None,
    temperature: float,
    mask_accidental_hits: bool = True,
) -> torch.Tensor:
    """Corrected logits [B, B].

    Args:
        queries: [B, D] user vectors (L2-normalised by the towers).
        candidates: [B, D] item vectors; row i is the positive of query i.
        candidate_ids: [B] item indices, to find accidental hits (the same item elsewhere in the
            batch is not a negative for that query).
        log_q: [B] log sampling probability of each candidate (its share of training examples);
            subtracted so popular items are not over-penalised as negatives (Yi et al. 2019).
        temperature: logits are divided by it (smaller = sharper).
        mask_accidental_hits: set logits of off-diagonal candidates equal to the positive to -inf.
    """
    if temperature <= 0:
        raise ValueError(f"temperature: must be positive, got {temperature}")
    logits = queries @ candidates.T / temperature
    if log_q is not None:
        logits = logits - log_q[None, :]
    if mask_accidental_hits:
        same = candidate_ids[:, None] == candidate_ids[None, :]
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, float("-inf"))
    return logits


def sampled_softmax_loss(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    candidate_ids: torch.Tensor,
    log_q: torch.Tensor | None = None,
    temperature: float = 0.05,
    mask_accidental_hits: bool = True,
) -> torch.Tensor:
    """Mean cross-entropy of each query against its in-batch candidates (scalar)."""
    logits = retrieval_logits(
        queries, candidates, candidate_ids, log_q, temperature, mask_accidental_hits
    )
    labels = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, labels)
