"""The conformance suite: checks every ganzoo model must pass, parametrised over a plugin's models.

Use it from a plugin's tests either as a one-liner or as a base class (add your own test methods)::

    from ganzoo.testing import ConformanceSuite, conformance_tests

    TestConformance = conformance_tests("dcgan", "wgan-gp")   # named models
    TestAll = conformance_tests(plugin="my-plugin")            # every model an entry point / distribution registers

    class TestMyGAN(ConformanceSuite):
        models = ["my-gan"]
        frozen_networks = {"dae"}           # trainable networks one train step may leave unchanged (rare)

Each check runs on the CPU with the model's ``tiny_config`` (batch of 4) and goes through the hooks and the
network roles (``ModelSpec.roles``), never through network names or shapes, so pyramids, frozen helpers and
several generators need no special case.  Override :meth:`make_batch` when a model needs batches the synthetic
ones do not cover.
"""

from __future__ import annotations

import io
import math
from typing import Any, ClassVar, Iterable, Iterator, Mapping

import pytest


def models_of_plugin(plugin: str) -> list[str]:
    """Names of the models registered by an entry point or distribution (``dcgan`` or ``ganzoo-plugin-dcgan``)."""
    from ganzoo.plugins import get_host

    host = get_host()
    for record in host.records:
        if plugin in (record.name, record.distribution):
            if record.status != "ok":
                raise RuntimeError(f"plugin {plugin!r} ({record.distribution} {record.version}) is {record.status}: {record.error}")
            return list(record.models)
    known = ", ".join(sorted(r.name for r in host.records))
    raise LookupError(f"no installed ganzoo plugin is called {plugin!r} (installed entry points: {known})")


def losses_of_plugin(plugin: str) -> list[str]:
    """Names of the losses registered by an entry point or distribution (empty when it registers none)."""
    from ganzoo.plugins import get_host

    models_of_plugin(plugin)  # the same errors for an unknown or broken plugin
    return next(list(r.losses) for r in get_host().records if plugin in (r.name, r.distribution))


def _model_fixture(models: list[str]) -> Any:
    def conformance_model(self: Any, request: pytest.FixtureRequest) -> str:
        return request.param

    return pytest.fixture(params=models, ids=models, name="conformance_model")(conformance_model)


def _finite(value: Any) -> bool:
    """A finite Python float, or a finite detached 0-dim tensor (metrics stay on the device until logged)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.dim() == 0 and not value.requires_grad and bool(torch.isfinite(value))
    return isinstance(value, float) and math.isfinite(value)


class ConformanceSuite:
    """Base class of the conformance tests; subclasses set ``models`` (a list of model names).

    Checks go through the hooks and the network roles, never through network names or shapes: samples through
    ``ganzoo_sample`` (so a pyramid whose generators each make one level passes as is), a train step must change
    every trainable network (roles generator, discriminator, auxiliary) and no frozen one.
    ``frozen_networks`` names trainable networks a single train step may leave unchanged (a network updated
    every k steps); networks with the ``frozen`` role need no entry.
    """

    models: ClassVar[Iterable[str]] = ()
    frozen_networks: ClassVar[set[str]] = set()
    batch_size: ClassVar[int] = 4

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        models = list(cls.__dict__.get("models", cls.models))
        if models:  # the suite's tests take the model name from this class-level parametrised fixture
            cls.conformance_model = _model_fixture(models)

    # -- hooks for subclasses -----------------------------------------------------------------------
    def make_batch(self, spec: Any, config: Any, batch_size: int, generator: Any) -> dict[str, Any]:
        """One training batch for ``spec``; the default is :func:`ganzoo.testing.helpers.synthetic_batch`."""
        from ganzoo.testing.helpers import synthetic_batch

        return synthetic_batch(spec, config, batch_size, generator)

    def build_state(self, model: str, seed: int = 0) -> Any:
        """A CPU state of ``model`` from its ``tiny_config``."""
        from ganzoo.testing.helpers import build_tiny_state

        return build_tiny_state(model, seed=seed, batch_size=self.batch_size)

    def batches(self, state: Any, seed: int = 0, skip: int = 0) -> Any:
        """An endless batch source of :meth:`make_batch` batches for ``state`` (the first ``skip`` left out, as a
        resumed run continues the data)."""
        import torch

        from ganzoo.state import IteratorBatchSource

        def stream() -> Iterator[dict[str, Any]]:
            generator = torch.Generator().manual_seed(seed)
            for _ in range(skip):
                self.make_batch(state.spec, state.model_config, self.batch_size, generator)
            while True:
                yield self.make_batch(state.spec, state.model_config, self.batch_size, generator)

        return IteratorBatchSource(stream(), state.device)

    def train_step(self, state: Any, batches: Any) -> Mapping[str, float]:
        """One train step through the model's hook, as the trainer calls it (learning rates set for the step)."""
        from ganzoo.plugins import get_host

        if hasattr(state, "schedules"):
            state.schedules.at(state.step)
        metrics = get_host().call("ganzoo_train_step", state.spec, state=state, batches=batches)
        state.step += 1
        return metrics

    # -- metadata -----------------------------------------------------------------------------------
    def test_metadata_is_complete(self, conformance_model: str) -> None:
        """paper, description and license are filled in; task and tiny_config are valid."""
        from ganzoo.plugins import get_host
        from ganzoo.specs import TASK_KINDS

        spec = get_host().get_model(conformance_model)
        for field in ("paper", "description", "license"):
            assert str(getattr(spec, field)).strip(), f"model {spec.name!r}: ModelSpec.{field} is empty"
        assert spec.task in TASK_KINDS
        assert spec.tiny_config, f"model {spec.name!r}: ModelSpec.tiny_config is empty (the kit needs a tiny network)"
        assert spec.distribution, f"model {spec.name!r} was not registered through an installed distribution"
        metadata = spec.metadata()
        assert metadata["name"] == spec.name and metadata["task"] == spec.task

    def test_plugin_module_imports_without_torch(self, conformance_model: str) -> None:
        """`ganzoo list` imports every plugin: its entry-point module must not import torch (or build networks)."""
        import subprocess
        import sys

        from ganzoo.plugins import get_host

        spec = get_host().get_model(conformance_model)
        record = next(r for r in get_host().records if r.name == spec.plugin)
        if not record.entry_point:
            pytest.skip("model not registered through an entry point")
        module = record.entry_point.split(":")[0].strip()
        code = (
            f"import importlib, sys; importlib.import_module({module!r}); "
            "heavy = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))[:3]; "
            "sys.exit('importing the plugin imported ' + ', '.join(heavy) if heavy else 0)"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (
            f"{module}: {result.stderr.strip()[-500:]}; import torch inside the hook functions instead, "
            "so that `ganzoo list` stays fast"
        )

    def test_default_and_tiny_configs_validate(self, conformance_model: str) -> None:
        """The paper defaults and tiny_config resolve into valid run configs."""
        from ganzoo.config import ModelConfig, resolve_config
        from ganzoo.plugins import get_host
        from ganzoo.testing.helpers import tiny_run_config

        spec = get_host().get_model(conformance_model)
        assert issubclass(spec.config_class, ModelConfig), "config_class must subclass ganzoo.config.ModelConfig"
        defaults = resolve_config(spec)  # paper defaults, train_defaults and data_defaults all valid
        assert defaults.model_name == spec.name
        tiny = tiny_run_config(spec)
        for key, value in spec.tiny_config.items():
            assert getattr(tiny.model, key) == value, f"tiny_config[{key!r}] was not applied"
        if spec.conditional:
            assert tiny.model.num_classes > 0, "a class-conditional model needs num_classes > 0 in tiny_config"

    # -- networks -----------------------------------------------------------------------------------
    def test_networks_build_with_roles(self, conformance_model: str) -> None:
        """Networks build from tiny_config with valid roles: a generator and a discriminator at least; every
        trainable network's parameters are held by an optimizer; frozen ones have none, no EMA and stay in eval."""
        from torch import nn

        from ganzoo.specs import ROLES, TRAINABLE_ROLES

        state = self.build_state(conformance_model)
        assert state.networks, "the model built no networks"
        roles = _roles(state)
        for name, net in state.networks.items():
            assert isinstance(net, nn.Module), f"network {name!r} is not an nn.Module"
            assert roles[name] in ROLES, f"network {name!r} has role {roles[name]!r} (allowed: {', '.join(ROLES)})"
        assert "generator" in roles.values(), "no network has the generator role"
        assert "discriminator" in roles.values(), "no network has the discriminator role"
        optimized = _optimized_parameters(state)
        for name, role in roles.items():
            params = [p for p in state.unwrapped(name).parameters() if p.requires_grad]
            if role in TRAINABLE_ROLES:
                missing = sum(id(p) not in optimized for p in params)
                assert not missing, f"{role} network {name!r}: {missing} trainable parameters are in no optimizer"
            else:
                assert not any(id(p) in optimized for p in state.unwrapped(name).parameters()), (
                    f"frozen network {name!r} has parameters in an optimizer")
                assert name not in getattr(state, "ema", {}), f"frozen network {name!r} has an EMA copy"
                assert not state.networks[name].training, f"frozen network {name!r} is in training mode"

    def test_generator_output_shape_dtype_range(self, conformance_model: str) -> None:
        """Models on the core's train step: its ``generator`` maps the declared latents to (N, C, S, S) float32
        images in [-1, 1] (the core step feeds them to D as they are).  Other models: see the sampling check."""
        import torch

        state = self.build_state(conformance_model)
        if state.spec.image_to_image or _own_step(state):
            pytest.skip("the model trains with its own step; its images are checked through ganzoo_sample")
        config = state.model_config
        with torch.no_grad():
            images = state.generate(state.draw_latents(2), state.random_labels(2))
        expected = (2, config.channels, config.image_size, config.image_size)
        assert tuple(images.shape) == expected, f"generator output shape {tuple(images.shape)}, expected {expected}"
        assert images.dtype == torch.float32 and torch.isfinite(images).all()
        assert images.min() >= -1 - 1e-5 and images.max() <= 1 + 1e-5, "generator output must lie in [-1, 1]"

    def test_discriminator_scores(self, conformance_model: str) -> None:
        """Models on the core's train step: its ``discriminator`` gives finite float32 scores, one (or one map) per
        real image.  Models with their own step feed their discriminators themselves (checked through the step)."""
        import torch

        state = self.build_state(conformance_model)
        if state.spec.image_to_image or _own_step(state):
            pytest.skip("the model trains with its own step; its discriminators are checked through it")
        batch = self.make_batch(state.spec, state.model_config, self.batch_size, torch.Generator().manual_seed(0))
        with torch.no_grad():
            scores = state.discriminate(batch["image"], batch.get("label"))
        assert scores.dtype == torch.float32
        assert scores.shape[0] == self.batch_size, f"expected one score (or score map) per image, got {tuple(scores.shape)}"
        assert torch.isfinite(scores).all()

    # -- losses -------------------------------------------------------------------------------------
    def test_losses_are_finite_and_backpropagate(self, conformance_model: str) -> None:
        """Both players' losses are finite scalars with gradients: through the core step's generator and
        discriminator for models that use it, on score maps for models with their own step."""
        import torch

        state = self.build_state(conformance_model)
        if state.spec.image_to_image or _own_step(state):
            scores_real = torch.randn(self.batch_size, 1, 4, 4, requires_grad=True)
            scores_fake = torch.randn(self.batch_size, 1, 4, 4, requires_grad=True)
            d_loss = state.loss.discriminator_loss(scores_real, scores_fake)
            g_loss = state.loss.generator_loss(scores_fake)
            for loss in (d_loss, g_loss):
                assert loss.dim() == 0 and torch.isfinite(loss)
            d_loss.backward()
            assert scores_real.grad is not None and torch.isfinite(scores_real.grad).all()
            return
        batch = self.make_batch(state.spec, state.model_config, self.batch_size, torch.Generator().manual_seed(0))
        labels = batch.get("label")
        fake = state.generate(state.draw_latents(self.batch_size), labels)
        d_loss = state.loss.discriminator_loss(state.discriminate(batch["image"], labels),
                                               state.discriminate(fake.detach(), labels))
        g_loss = state.loss.generator_loss(state.discriminate(fake, labels))
        for name, loss in (("discriminator", d_loss), ("generator", g_loss)):
            assert loss.dim() == 0, f"{name} loss must be a scalar, got shape {tuple(loss.shape)}"
            assert torch.isfinite(loss), f"{name} loss is not finite"
        d_params = [p for p in state.networks["discriminator"].parameters() if p.requires_grad]
        g_params = [p for p in state.networks["generator"].parameters() if p.requires_grad]
        d_grads = torch.autograd.grad(d_loss, d_params, allow_unused=True)
        g_grads = torch.autograd.grad(g_loss, g_params, allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in d_grads), "discriminator loss does not reach D"
        assert any(g is not None and g.abs().sum() > 0 for g in g_grads), "generator loss does not reach G"
        assert all(torch.isfinite(g).all() for g in (*d_grads, *g_grads) if g is not None)

    # -- training -----------------------------------------------------------------------------------
    def test_train_step_updates_networks(self, conformance_model: str) -> None:
        """A train step returns finite float metrics, changes every trainable network (generator, discriminator,
        auxiliary roles) and leaves every frozen one as it was (weights and buffers, in eval mode)."""
        from ganzoo.specs import TRAINABLE_ROLES
        from ganzoo.testing.helpers import changed_networks, parameters_snapshot

        state = self.build_state(conformance_model)
        roles = _roles(state)
        trainable = {name for name, role in roles.items() if role in TRAINABLE_ROLES
                     and any(p.requires_grad for p in state.unwrapped(name).parameters())}
        frozen = {name for name, role in roles.items() if role == "frozen"}
        before, buffers = parameters_snapshot(state), _buffers_snapshot(state, frozen)
        metrics = self.train_step(state, self.batches(state))
        assert isinstance(metrics, Mapping) and metrics, "ganzoo_train_step must return a non-empty mapping"
        for key, value in metrics.items():
            assert isinstance(key, str) and _finite(value), f"metric {key!r} = {value!r} is not a finite float or detached 0-dim tensor"
        changed = changed_networks(before, parameters_snapshot(state))
        unchanged = trainable - changed - set(self.frozen_networks)
        assert not unchanged, f"a train step left these optimised networks unchanged: {sorted(unchanged)}"
        touched = sorted((frozen & changed) | {name for name in frozen if _buffers_changed(state, name, buffers[name])})
        assert not touched, f"a train step changed these frozen networks: {touched}"
        training = sorted(name for name in frozen if state.networks[name].training)
        assert not training, f"frozen networks {training} were put in training mode"

    def test_seeded_training_is_deterministic(self, conformance_model: str) -> None:
        """Two seeded runs of two steps give identical metrics and weights."""
        import torch

        from ganzoo.testing.helpers import parameters_snapshot

        runs = []
        for _ in range(2):
            state = self.build_state(conformance_model, seed=3)
            batches = self.batches(state, seed=3)
            metrics = [dict(self.train_step(state, batches)) for _ in range(2)]
            runs.append((metrics, parameters_snapshot(state)))
        (metrics_a, weights_a), (metrics_b, weights_b) = runs
        assert metrics_a == metrics_b, "same seed, different metrics"
        for name, params in weights_a.items():
            for key, value in params.items():
                assert torch.equal(value, weights_b[name][key]), f"same seed, different weights: {name}.{key}"

    # -- checkpoints ----------------------------------------------------------------------------------
    def test_checkpoint_round_trip(self, conformance_model: str) -> None:
        """A checkpoint (safetensors + JSON) restores every network, optimizer, extra state and the samples."""
        import tempfile

        import torch

        from ganzoo.checkpoint import restore_checkpoint, save_checkpoint
        from ganzoo.testing.helpers import parameters_snapshot, sample_images

        state = self.build_state(conformance_model, seed=1)
        self.train_step(state, self.batches(state, seed=1))
        with tempfile.TemporaryDirectory() as run_dir:
            path = save_checkpoint(run_dir, state)
            restored = self.build_state(conformance_model, seed=2)  # different initial weights
            restore_checkpoint(restored, path)
        assert restored.step == state.step
        weights, back = parameters_snapshot(state), parameters_snapshot(restored)
        for name, params in weights.items():
            assert all(torch.equal(value, back[name][key]) for key, value in params.items()), f"network {name!r} differs"
        assert _tensors_equal(state.state_dict()["optimizers"], restored.state_dict()["optimizers"]), "optimizer states differ"
        assert _tensors_equal(state.extras, restored.extras), "ganzoo_extra_state differs after restoring"
        assert torch.equal(sample_images(state, 2, seed=5), sample_images(restored, 2, seed=5)), (
            "sampling differs after a checkpoint round trip"
        )

    def test_resume_continues_exactly(self, conformance_model: str) -> None:
        """Two steps in one go equal one step, a checkpoint, a fresh state restored from it and one more step."""
        import tempfile

        import torch

        from ganzoo.checkpoint import restore_checkpoint, save_checkpoint
        from ganzoo.testing.helpers import parameters_snapshot

        straight = self.build_state(conformance_model, seed=4)
        batches = self.batches(straight, seed=4)
        self.train_step(straight, batches)
        consumed = batches.consumed  # a step may take several batches (critic steps)
        with tempfile.TemporaryDirectory() as run_dir:
            path = save_checkpoint(run_dir, straight)  # with the RNG states at this point
            expected = dict(self.train_step(straight, batches))
            resumed = self.build_state(conformance_model, seed=9)
            restore_checkpoint(resumed, path)  # weights, optimizers, extras, step and the RNG states
        got = dict(self.train_step(resumed, self.batches(resumed, seed=4, skip=consumed)))
        assert got == expected, "the resumed step's metrics differ"
        weights, back = parameters_snapshot(straight), parameters_snapshot(resumed)
        for name, params in weights.items():
            for key, value in params.items():
                assert torch.equal(value, back[name][key]), f"resumed weights differ: {name}.{key}"

    # -- sampling -----------------------------------------------------------------------------------
    def test_sample_shape_range_and_determinism(self, conformance_model: str) -> None:
        """``ganzoo_sample`` gives (N, C, S, S) float32 images in [-1, 1], the same for the same seed (other seeds
        give other images for noise models), for one image too (both directions for unpaired models), and
        leaves the networks' train/eval modes as they were."""
        import torch

        from ganzoo.testing.helpers import sample_images, target_channels

        state = self.build_state(conformance_model)
        config = state.model_config
        channels = target_channels(config) if state.spec.image_to_image else config.channels
        images = sample_images(state, 3, seed=5)
        expected = (3, channels, config.image_size, config.image_size)
        assert tuple(images.shape) == expected, f"ganzoo_sample gave shape {tuple(images.shape)}, expected {expected}"
        assert images.dtype == torch.float32 and torch.isfinite(images).all()
        assert images.min() >= -1 - 1e-5 and images.max() <= 1 + 1e-5, "samples must lie in [-1, 1]"
        assert torch.equal(images, sample_images(state, 3, seed=5)), "the same seed gave other samples"
        if not state.spec.image_to_image:
            assert not torch.equal(images, sample_images(state, 3, seed=6)), "another seed gave the same samples"
        one = sample_images(state, 1)
        assert one.shape == (1, *expected[1:]) and torch.isfinite(one).all()
        if state.spec.task == "unpaired-image-to-image":
            back = sample_images(state, 1, direction="BtoA")
            assert back.shape[0] == 1 and torch.isfinite(back).all()
        # sampling must leave the networks in training mode for the next train step (frozen ones stay in eval)
        roles = _roles(state)
        left = sorted(name for name, net in state.networks.items() if net.training != (roles[name] != "frozen"))
        assert not left, f"ganzoo_sample changed the train/eval mode of {left} (frozen networks stay in eval mode)"

    def test_preview_columns(self, conformance_model: str) -> None:
        """``ganzoo_preview`` (the progress grid) gives one tensor or equally shaped columns in [-1, 1]."""
        import torch

        from ganzoo.plugins import get_host

        state = self.build_state(conformance_model)
        batch = (self.make_batch(state.spec, state.model_config, 2, torch.Generator().manual_seed(0))
                 if state.spec.image_to_image else {})
        preview = get_host().call("ganzoo_preview", state.spec, state=state, batch=batch)
        columns = [preview] if isinstance(preview, torch.Tensor) else list(preview)
        assert columns and all(isinstance(column, torch.Tensor) for column in columns)
        assert len({tuple(column.shape) for column in columns}) == 1, f"column shapes differ: {[tuple(c.shape) for c in columns]}"
        assert all(column.dim() == 4 and torch.isfinite(column).all() for column in columns)
        assert all(column.min() >= -1 - 1e-5 and column.max() <= 1 + 1e-5 for column in columns)


def _roles(state: Any) -> dict[str, str]:
    """Each network's role (API-1 states without ``roles``: generators and the rest)."""
    roles = getattr(state, "roles", None)
    return dict(roles) if roles else {
        name: "generator" if name in state.generator_names else "discriminator" for name in state.networks
    }


def _own_step(state: Any) -> bool:
    """The model does not train with the core's step on a ``generator`` and a ``discriminator`` (an API-1
    implementation may still fall back to the core's step, so it counts as the core's when those networks exist)."""
    from ganzoo.plugins import get_host

    if not {"generator", "discriminator"} <= set(state.networks):
        return True
    return get_host().implements(state.spec, "ganzoo_train_step") and getattr(state.spec, "api", 1) >= 2


def _optimized_parameters(state: Any) -> set[int]:
    return {id(p) for opt in state.optimizers.values() for group in opt.param_groups for p in group["params"]}


def _buffers_snapshot(state: Any, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {name: {key: value.detach().clone() for key, value in state.unwrapped(name).named_buffers()} for name in names}


def _buffers_changed(state: Any, name: str, before: Mapping[str, Any]) -> bool:
    import torch

    return any(not torch.equal(value, before[key]) for key, value in state.unwrapped(name).named_buffers())


def _tensors_equal(a: Any, b: Any) -> bool:
    """Nested dicts/lists of tensors and plain values are equal."""
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a.cpu(), b.cpu())
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(_tensors_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_tensors_equal, a, b))
    return a == b


class LossConformanceSuite:
    """Checks every adversarial loss must pass; subclasses set ``losses`` (a list of loss names).

    ``training_model`` names the model trained for one step with each loss (default: ``dcgan`` when installed,
    else the first installed unconditional model that keeps the core's train step; the check is skipped when
    there is none).
    """

    losses: ClassVar[Iterable[str]] = ()
    training_model: ClassVar[str | None] = None
    batch_size: ClassVar[int] = 4

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        losses = list(cls.__dict__.get("losses", cls.losses))
        if losses:
            cls.conformance_loss = pytest.fixture(params=losses, ids=losses, name="conformance_loss")(
                lambda self, request: request.param
            )

    @staticmethod
    def _loss(name: str) -> Any:
        from ganzoo.plugins import get_host
        from ganzoo.testing.helpers import tiny_run_config

        host = get_host()
        models = host.list_models(task="unconditional")
        config = tiny_run_config(host.get_model(models[0]), loss=name) if models else None
        return host.get_loss(name).build(config)

    def test_loss_gives_finite_scalars_with_gradients(self, conformance_loss: str) -> None:
        """Both objectives are finite scalars for per-sample scores and patch maps, with gradients to the scores."""
        import torch

        from ganzoo.losses import generator_objective

        loss = self._loss(conformance_loss)
        for shape in ((self.batch_size,), (self.batch_size, 1), (self.batch_size, 1, 4, 4)):
            generator = torch.Generator().manual_seed(0)
            real = torch.randn(shape, generator=generator).requires_grad_(True)
            fake = torch.randn(shape, generator=generator).requires_grad_(True)
            d_loss = loss.discriminator_loss(real, fake)
            g_loss = generator_objective(loss, fake, real.detach())
            for name, value in (("discriminator", d_loss), ("generator", g_loss)):
                assert value.dim() == 0 and torch.isfinite(value), f"{name} loss for scores {shape} is not a finite scalar"
            real_grad, fake_grad = torch.autograd.grad(d_loss, (real, fake))
            (g_grad,) = torch.autograd.grad(g_loss, fake)
            assert real_grad.abs().sum() > 0 and fake_grad.abs().sum() > 0, "D's loss must depend on both scores"
            assert g_grad.abs().sum() > 0, "G's loss must depend on the fake scores"

    def test_loss_rewards_each_player(self, conformance_loss: str) -> None:
        """D's loss is lower when it scores real above fake; G's loss is lower when its images score higher."""
        import torch

        from ganzoo.losses import generator_objective

        loss = self._loss(conformance_loss)
        spread = torch.linspace(-0.5, 0.5, self.batch_size)
        high, low = 2.0 + spread, -2.0 + spread
        assert loss.discriminator_loss(high, low) < loss.discriminator_loss(low, high), (
            "the discriminator loss does not prefer real scores above fake ones"
        )
        assert generator_objective(loss, high, low) < generator_objective(loss, low, low + 0.1), (
            "the generator loss does not prefer higher scores on generated images"
        )

    def test_loss_trains_a_model(self, conformance_loss: str) -> None:
        """One core train step with the loss changes the generator and the discriminator, with finite metrics."""
        from ganzoo.config import ConfigError
        from ganzoo.plugins import get_host
        from ganzoo.testing.helpers import build_tiny_state, changed_networks, parameters_snapshot, synthetic_batches

        host = get_host()
        owner = host.get_loss(conformance_loss).plugin
        own = [m for m in host.list_models(task="unconditional") if host.get_model(m).distribution == owner]
        candidates = [self.training_model] if self.training_model else [
            m for m in dict.fromkeys([*own, "dcgan", *host.list_models(task="unconditional")])
            if m in host.list_models() and not host.implements(m, "ganzoo_train_step")
            and not host.implements(m, "ganzoo_loss")
        ]
        for model in candidates:
            try:
                state = build_tiny_state(model, batch_size=self.batch_size, loss=conformance_loss)
            except ConfigError:  # e.g. a loss with a gradient penalty and a BatchNorm discriminator
                continue
            before = parameters_snapshot(state)
            metrics = host.call("ganzoo_train_step", model, state=state, batches=synthetic_batches(state))
            assert metrics and all(math.isfinite(float(value)) for value in metrics.values()), f"non-finite {metrics}"
            assert {"generator", "discriminator"} <= changed_networks(before, parameters_snapshot(state))
            return
        pytest.skip("no installed unconditional model keeps the core train step and accepts this loss")


def conformance_tests(*models: str, plugin: str | None = None) -> type:
    """A :class:`ConformanceSuite` subclass for ``models`` (and/or every model of ``plugin``).

    A plugin that registers losses also gets the :class:`LossConformanceSuite` checks for each of them, so a
    loss-only plugin is tested with ``conformance_tests(plugin="my-losses")`` too.  Assign the result to a
    ``Test*`` name in a test module so pytest collects it: ``TestConformance = conformance_tests("dcgan")``.
    """
    names = list(models) + (models_of_plugin(plugin) if plugin else [])
    losses = losses_of_plugin(plugin) if plugin else []
    if not names and not losses:
        raise ValueError(
            f"plugin {plugin!r} registers no model and no loss: nothing to test" if plugin
            else "conformance_tests() needs model names or plugin=NAME"
        )
    bases = tuple(base for base, used in ((ConformanceSuite, names), (LossConformanceSuite, losses)) if used)
    return type("TestConformance", bases, {"models": names, "losses": losses, "__module__": _caller_module()})


def _caller_module() -> str:
    import sys

    return sys._getframe(2).f_globals.get("__name__", __name__)
