"""Measuring what InfoGAN's categorical code learned, without labels in training.

- :func:`mutual_information`: the estimate H(c) - E[-log Q(c | G(z, c))] on fresh samples (at most ln K).
- :func:`best_assignment`: the code -> class mapping that maximises agreement on a confusion matrix (Hungarian
  matching, ``scipy.optimize.linear_sum_assignment``), and the accuracy it gives.
- :func:`generated_code_accuracy`: samples of each code value labelled by a classifier (the shipped
  ``ganzoo-digits-cnn`` for digits), matched: how well the code alone decides the class of the image.
- :func:`real_data_accuracy`: Q's code for real images against their labels, matched (the paper's "c1 as a
  classifier" on MNIST: 5% error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ganzoo.specs import ModelSpec
from ganzoo_infogan.information import CATEGORICAL, categorical_cross_entropy, mutual_information_estimate
from ganzoo_infogan.training import generate_with_codes, q_network


@dataclass
class Matching:
    """A code -> class assignment and how many items it classifies correctly."""

    assignment: dict[int, int]
    accuracy: float
    confusion: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "assignment": {str(k): v for k, v in self.assignment.items()},
                "confusion": self.confusion.tolist()}


def confusion_matrix(codes: np.ndarray, classes: np.ndarray, num_codes: int, num_classes: int) -> np.ndarray:
    """Counts ``[code, class]`` of paired integer arrays."""
    matrix = np.zeros((num_codes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(codes, dtype=np.int64), np.asarray(classes, dtype=np.int64)), 1)
    return matrix


def best_assignment(confusion: np.ndarray) -> Matching:
    """The one-to-one code -> class mapping with the most agreeing items (Hungarian matching) and its accuracy.

    With more codes than classes (or fewer) only as many codes as can be matched get a class; unmatched items
    count as errors.
    """
    from scipy.optimize import linear_sum_assignment

    confusion = np.asarray(confusion)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    total = int(confusion.sum())
    correct = int(confusion[rows, cols].sum())
    return Matching({int(r): int(c) for r, c in zip(rows, cols)}, correct / total if total else 0.0, confusion)


@torch.no_grad()
def code_predictions(state: Any, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Q's categorical logits for ``images`` (eval mode; the networks' modes are restored)."""
    net = q_network(state)
    was_training = net.training
    net.eval()
    try:
        logits = [net.code_predictions(chunk.to(state.device)).logits.float()
                  for chunk in images.split(batch_size)]
    finally:
        net.forget()
        net.train(was_training)
    return torch.cat(logits)


def mutual_information(model: ModelSpec, state: Any, num: int = 1000, seed: int = 0) -> float:
    """H(c) - cross-entropy of Q on ``num`` fresh samples: the lower bound on I(code; image), in nats."""
    images, latents = generate_with_codes(model, state, num, torch.Generator().manual_seed(seed))
    logits = code_predictions(state, images)
    from ganzoo_infogan.networks import CodePrediction

    cross_entropy = categorical_cross_entropy(CodePrediction(logits, logits[:, :0]), latents[CATEGORICAL].to(logits.device))
    return mutual_information_estimate(cross_entropy, state.model_config.categories)


def generated_code_accuracy(model: ModelSpec, state: Any, classify: Callable[[torch.Tensor], torch.Tensor],
                            num_classes: int, per_code: int = 100, seed: int = 0) -> Matching:
    """Sample ``per_code`` images for every code value, label them with ``classify`` (images -> class indices)
    and match codes to classes."""
    categories = state.model_config.categories
    codes = torch.arange(categories).repeat_interleave(per_code)
    images, _ = generate_with_codes(model, state, len(codes), torch.Generator().manual_seed(seed),
                                    given={CATEGORICAL: codes})
    predicted = classify(images).cpu().numpy()
    return best_assignment(confusion_matrix(codes.numpy(), predicted, categories, num_classes))


def real_data_accuracy(state: Any, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> Matching:
    """Q's most likely code for each real image, matched to the true labels."""
    codes = code_predictions(state, images).argmax(dim=1).cpu().numpy()
    return best_assignment(confusion_matrix(codes, labels.cpu().numpy(), state.model_config.categories, num_classes))


def shipped_classifier(name: str = "digits-cnn", device: torch.device | str = "cpu") -> tuple[Callable[[torch.Tensor], torch.Tensor], int]:
    """A classify function from one of the core's shipped classifiers (``digits-cnn``, ``shapes-cnn``) and its
    number of classes; images in [-1, 1] go through the benchmark's pipeline (8-bit, then the classifier's
    channels and size)."""
    from ganzoo.data.images import to_uint8
    from ganzoo.metrics.classifier import load_classifier
    from ganzoo.metrics.extractors import adapt_images

    net, _ = load_classifier(name)
    net = net.to(device)

    @torch.no_grad()
    def classify(images: torch.Tensor) -> torch.Tensor:
        pixels = to_uint8(images.float()).to(device)
        adapted = adapt_images(pixels, net.channels, (net.image_size, net.image_size)) * 2 - 1
        return torch.cat([net(chunk)[1].argmax(dim=1) for chunk in adapted.split(256)])

    return classify, net.num_classes
