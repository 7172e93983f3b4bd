"""The information term L_I of InfoGAN and the mutual-information estimate.

L_I(G, Q) = E[log Q(c | G(z, c))] + H(c) is a lower bound on I(c; G(z, c)) (Chen et al. 2016, Eq. 4).  Both
players minimise the GAN loss *minus* lambda * L_I, i.e. they add

- lambda_cat * cross-entropy of Q's categorical logits against the code drawn (``F.cross_entropy`` on the raw
  logits: the softmax is inside it, never applied twice), and
- lambda_cont * the Gaussian negative log-likelihood of each continuous code under Q's mean with unit variance
  (0.5 * squared error per code, the authors' fixed-std choice; the constant 0.5 log 2 pi is left out),

in D's update (Q on detached fakes: trains the Q head and the shared trunk) and in G's (through the fakes).
The estimate ``H(c) - cross-entropy`` of the categorical code's mutual information approaches ln K (ln 10 ~ 2.303)
when Q recovers the code from every image.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch
import torch.nn.functional as F

from ganzoo_infogan.networks import CodePrediction, continuous_names

CATEGORICAL = "code"


def categorical_cross_entropy(prediction: CodePrediction, codes: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of Q's logits against the drawn class indices (nats)."""
    return F.cross_entropy(prediction.logits.float(), codes.long())


def continuous_nll(prediction: CodePrediction, latents: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Mean over the batch of the summed unit-variance Gaussian NLL (without its constant) of the continuous codes."""
    count = prediction.means.size(1)
    if count == 0:
        return prediction.means.sum() * 0.0
    targets = torch.cat([latents[name] for name in continuous_names(count)], dim=1).float()
    return 0.5 * (prediction.means.float() - targets).pow(2).sum(dim=1).mean()


def information_terms(prediction: CodePrediction, latents: Mapping[str, torch.Tensor], lambda_cat: float,
                      lambda_cont: float) -> dict[str, torch.Tensor]:
    """The weighted L_I terms to add to a player's loss: ``info_cat`` and, with continuous codes, ``info_cont``."""
    terms = {"info_cat": lambda_cat * categorical_cross_entropy(prediction, latents[CATEGORICAL])}
    if prediction.means.size(1):
        terms["info_cont"] = lambda_cont * continuous_nll(prediction, latents)
    return terms


def entropy_of_code(categories: int) -> float:
    """H(c) of the uniform categorical code, in nats (ln K)."""
    return math.log(categories)


def mutual_information_estimate(cross_entropy: float | torch.Tensor, categories: int) -> float:
    """The lower bound H(c) - E[-log Q(c|x)] on I(c; G(z, c)), in nats (at most ln K)."""
    return entropy_of_code(categories) - float(cross_entropy)
