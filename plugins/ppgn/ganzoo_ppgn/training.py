"""PPGN's train step and sampling entry points, on a :class:`ganzoo.state.GANState`.

Training (one call per step): the codes h = E(x) of a real batch (and E1(x)) come from the frozen
classifier; the discriminator learns real images against G(h); G learns

    lambda_image * ||x - G(h)||^2 + lambda_feature1 * ||E1(x) - E1(G(h))||^2 / mean(E1(x)^2)
      + lambda_feature * ||h - E(G(h))||^2 / mean(h^2) + lambda_adversarial * L_GAN(D(G(h)))

(squared errors averaged over elements; the feature terms relative to the features' mean square so their
weights do not depend on the classifier's scale), and the DAE learns to undo Gaussian noise on h.  The range
of the real codes seen so far is kept per dimension in ``state.extras`` (the sampler clips h to it).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F

from ganzoo_ppgn.sampler import PAPER_FEATURE_SCALE, ChainResult, MCMCSettings, run_chains, scaled_settings

PREVIEW_COLUMNS = 8


def _relative_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(prediction.float(), target.float()) / target.float().pow(2).mean().clamp_min(1e-8)


def _update_code_range(state: Any, codes: torch.Tensor) -> None:
    extras = state.extras
    extras["code_low"] = torch.minimum(extras["code_low"], codes.min(dim=0).values)
    extras["code_high"] = torch.maximum(extras["code_high"], codes.max(dim=0).values)


def train_step(state: Any, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """One update of D, then G, then the DAE (see the module docstring)."""
    config, nets = state.model_config, state.networks
    real = batch["image"]
    classifier = state.unwrapped("classifier")
    with torch.no_grad():
        real_e1, codes = classifier.features(real)
    _update_code_range(state, codes)
    metrics = _discriminator_step(state, real, codes)
    metrics.update(_generator_step(state, real, real_e1, codes))
    noisy = codes + config.dae_noise * codes.pow(2).mean().sqrt() * torch.randn_like(codes)
    with state.autocast():
        dae_loss = _relative_mse(nets["dae"](noisy), codes)
    state.optimize("dae", dae_loss)
    metrics["loss_dae"] = float(dae_loss.detach())
    return metrics


def _discriminator_step(state: Any, real: torch.Tensor, codes: torch.Tensor) -> dict[str, float]:
    with torch.no_grad(), state.autocast():
        fake = state.networks["generator"](codes)
    with state.autocast():
        real_scores = state.networks["discriminator"](real)
        fake_scores = state.networks["discriminator"](fake)
        d_loss = state.loss.discriminator_loss(real_scores.float(), fake_scores.float())
    state.optimize("discriminator", d_loss)
    return {"loss_d": float(d_loss.detach()), "d_real": float(real_scores.detach().float().mean()),
            "d_fake": float(fake_scores.detach().float().mean())}


@contextmanager
def _frozen(net: torch.nn.Module) -> Iterator[None]:
    """No parameter gradients for ``net`` during the generator update (restored afterwards)."""
    flags = [p.requires_grad for p in net.parameters()]
    net.requires_grad_(False)
    try:
        yield
    finally:
        for param, flag in zip(net.parameters(), flags):
            param.requires_grad_(flag)


def _generator_step(state: Any, real: torch.Tensor, real_e1: torch.Tensor, codes: torch.Tensor) -> dict[str, float]:
    config, nets = state.model_config, state.networks
    classifier = state.unwrapped("classifier")
    discriminator = nets["discriminator"]
    frozen_d = not isinstance(discriminator, torch.nn.parallel.DistributedDataParallel)
    with (_frozen(discriminator) if frozen_d else _nullcontext()), state.autocast():
        fake = nets["generator"](codes)
        fake_e1, fake_codes = classifier.features(fake)
        image = F.mse_loss(fake.float(), real.float())
        feature1 = _relative_mse(fake_e1, real_e1)
        feature = _relative_mse(fake_codes, codes)
        adversarial = state.loss.generator_loss(discriminator(fake).float())
        g_loss = (config.lambda_image * image + config.lambda_feature1 * feature1 + config.lambda_feature * feature
                  + config.lambda_adversarial * adversarial)
        state.optimize("generator", g_loss)
    return {"loss_g": float(g_loss.detach()), "image_mse": float(image.detach()),
            "feature1_rel": float(feature1.detach()), "feature_rel": float(feature.detach()),
            "adversarial": float(adversarial.detach())}


@contextmanager
def _nullcontext() -> Iterator[None]:
    yield


# -- sampling -------------------------------------------------------------------------------------------
def sampler_settings(state: Any) -> MCMCSettings:
    """The run's ``[sample]`` settings converted from the paper's units to this classifier's code range."""
    sample = state.config.sample
    paper = MCMCSettings(sample.steps, sample.epsilon1, sample.epsilon2, sample.epsilon3, sample.lr, sample.lr_end,
                         sample.init_std)
    return scaled_settings(paper, feature_scale(state))


def feature_scale(state: Any) -> float:
    """The largest real code value seen in training (the analogue of the paper's fc6 bound 30)."""
    low, high = state.extras["code_low"], state.extras["code_high"]
    known = low <= high
    if not bool(known.any()):  # an untrained run: no codes seen yet, keep the paper's units
        return PAPER_FEATURE_SCALE
    return max(float(high[known].max()), 1e-6)


@contextmanager
def _eval_mode(*nets: torch.nn.Module) -> Iterator[None]:
    modes = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)


def sample_chains(state: Any, num: int, labels: torch.Tensor | None, generator: torch.Generator | None = None,
                  snapshot_every: int = 0, latents: Mapping[str, torch.Tensor] | None = None) -> ChainResult:
    """Run one chain per requested image (labels ``None``: uniform classes) with the run's settings.

    The starting codes are the declared latent ``h`` (given in ``latents``, else drawn with ``generator``)
    times the scaled ``sample.init_std``; the noise of the chains comes from ``generator`` too.
    """
    sample = state.config.sample
    if labels is None:
        labels = state.random_labels(num, generator)
    labels = labels.to(state.device)
    settings = sampler_settings(state)
    g_net = state.sampling_network("generator")
    classifier, dae = state.unwrapped("classifier"), state.unwrapped("dae")

    def log_prob(images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(classifier.logits(images).float(), dim=1).gather(1, targets[:, None])[:, 0]

    def prior(codes: torch.Tensor) -> torch.Tensor:
        return dae(codes) if sample.prior == "dae" else classifier.encode(g_net(codes))

    start = state.draw_latents(num, generator, given=latents)["h"] * settings.init_std
    with _eval_mode(g_net, classifier, dae):
        return run_chains(g_net, log_prob, prior, labels, start, settings, state.extras["code_low"],
                          state.extras["code_high"], noise=generator, snapshot_every=snapshot_every,
                          progress=sample.progress)



def chain_preview(state: Any, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
                  columns: int = PREVIEW_COLUMNS) -> list[torch.Tensor]:
    """Columns of a chain preview: G(h) at evenly spaced steps (first and last included), one row per chain.

    Without ``labels`` there is one chain per class.
    """
    if labels is None:
        labels = torch.arange(state.model_config.num_classes, device=state.device)
    if generator is None:
        generator = torch.Generator().manual_seed(state.config.train.seed)
    every = max(1, -(-state.config.sample.steps // max(columns - 1, 1)))
    result = sample_chains(state, len(labels), labels, generator, snapshot_every=every)
    return [images.float().clamp(-1, 1) for images in result.snapshots]
