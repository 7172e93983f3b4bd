"""What the loaded plugins offer: model rows for ``ganzoo list``, a model's full description for ``ganzoo info``
(metadata, latents, network roles, honoured train settings, config schema), losses and other contributions.

The Python API (``ganzoo.model_info``) and the CLI share these; the CLI only prints them.
"""

from __future__ import annotations

import warnings
from typing import Any


def model_rows(pattern: str = "*", task: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """``ganzoo list`` rows: one per matching model or plugin contribution (``kind``: model, loss, dataset, ...),
    plus one per broken or disabled plugin.  ``task`` keeps only models of that task kind."""
    import fnmatch

    from ganzoo.plugins import get_host

    kind = "model" if task is not None else kind
    rows = []
    for row in get_host().model_records():
        if row["name"] is not None:  # a model (ok, or in conflict with another plugin's model of that name)
            if (fnmatch.fnmatchcase(row["name"], pattern) and (task is None or row["task"] == task)
                    and (kind is None or row["kind"] == kind)):
                rows.append(row)
        elif pattern == "*" or any(fnmatch.fnmatchcase(row[k], pattern) for k in ("entry_point", "plugin")):
            rows.append(row)
    return rows


def model_info(name: str) -> dict[str, Any]:
    """Metadata, resolved defaults, overridden hooks and config schema of an installed model."""
    from ganzoo import hookspecs
    from ganzoo.config import resolve_config, schema
    from ganzoo.plugins import get_host

    host = get_host()
    spec = host.get_model(name)
    defaults = resolve_config(spec)
    from ganzoo.latents import describe

    return {
        **spec.metadata(),
        "latents": describe(host.call("ganzoo_latents", spec, config=defaults.model)),
        "networks": network_roles(spec, defaults),
        "train_settings": honoured_train_settings(spec),
        "entry_point": spec.plugin,
        "hooks": [hook for hook in hookspecs.HOOK_NAMES if not hook.startswith("ganzoo_register") and host.implements(spec, hook)],
        "tiny_config": dict(spec.tiny_config),
        "defaults": defaults.model_dump(mode="json", exclude={"model_name"}),
        "defaults_toml": defaults.to_toml(),
        "schema": schema(spec),
    }


def network_roles(spec: Any, config: Any) -> dict[str, str]:
    """Network name -> role for the default config, built on torch's ``meta`` device (no memory, no weights)."""
    from ganzoo.plugins import get_host

    import torch

    host = get_host()
    roles: dict[str, str] = {}
    # loading pretrained weights into meta tensors is a no-op that torch warns about: only the names matter here
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for hook, role, single in (("ganzoo_build_generator", "generator", "generator"),
                                   ("ganzoo_build_discriminator", "discriminator", "discriminator")):
            built = host.call(hook, spec, config=config.model)
            names = [single] if isinstance(built, torch.nn.Module) and not isinstance(built, torch.nn.ModuleDict) else list(built)
            roles.update({name: spec.roles.get(name, role) for name in names})
    return roles


def honoured_train_settings(spec: Any) -> dict[str, Any]:
    """Which train settings the model honours: the trainer applies all but the step-only ones, which depend on
    the model's train step."""
    from ganzoo.config import TrainConfig
    from ganzoo.specs import STEP_SETTINGS

    honoured = spec.honoured_step_settings
    step = list(STEP_SETTINGS) if honoured is None else list(honoured)
    return {
        "trainer": [name for name in TrainConfig.model_fields if name not in STEP_SETTINGS],
        "step": step,
        "ignored": [] if honoured is None else [name for name in STEP_SETTINGS if name not in honoured],
        "checked": honoured is not None,
    }


def loss_info() -> list[dict[str, Any]]:
    """Every registered loss with its description, plugin and default gradient-penalty weight."""
    from ganzoo.plugins import get_host

    host = get_host()
    return [
        {"name": name, "description": loss.description, "plugin": loss.plugin, "gradient_penalty": loss.gradient_penalty}
        for name, loss in ((n, host.get_loss(n)) for n in host.list_losses())
    ]


def contribution_info(name: str) -> dict[str, Any] | None:
    """What a non-model name is (a loss, dataset, protocol, augmentation or command) and who provides it;
    ``None`` when no plugin registered ``name`` as any of those."""
    from ganzoo.plugins import get_host

    host = get_host()
    if name in host.list_losses():
        loss = host.get_loss(name)
        try:
            built = loss.build()  # a factory that reads the run's settings may fail without a config
        except Exception:
            built = None
        return {"name": name, "kind": "loss", "plugin": loss.plugin, "description": loss.description,
                "gradient_penalty": loss.gradient_penalty,
                "class": f"{type(built).__module__}.{type(built).__qualname__}" if built is not None else None,
                "generator_needs_real_scores": bool(getattr(built, "generator_needs_real_scores", False)),
                "usage": f"ganzoo train MODEL --loss {name}"}
    for kind in ("dataset", "protocol", "augmentation", "command"):
        item = host.extensions(kind).get(name)
        if item is None:
            continue
        info: dict[str, Any] = {"name": name, "kind": kind, "plugin": host.extension_plugin(kind, name)}
        if kind == "protocol":
            info.update(protocol=item.model_dump(mode="json"), hash=item.digest())
        else:
            info["description"] = item.help if kind == "command" else item.description
            info.update(tasks=list(item.tasks)) if kind == "dataset" else None
            info.update(stage=item.stage) if kind == "augmentation" else None
        return info
    return None
