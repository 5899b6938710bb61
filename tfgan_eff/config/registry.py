"""The method registry: each method folder describes itself with a `Method` and registers it under its name.

config/ and train_lib know no method by name; they ask this registry. A method's `Method` holds only config
functions (cheap to import, no TensorFlow), and names the module with its sub-run plan, which the experiment executor
imports when the method runs. `tfgan_eff/methods.py` imports every method folder's registration.
"""

import dataclasses
import importlib
from typing import Callable, Mapping

_METHODS = {}


@dataclasses.dataclass(frozen=True)
class Method:
    """What a method adds to the package.

    Attributes:
      name: the `--method` value and `cfg.method`.
      help: one line for `--help` and errors.
      sections: {config section name: fn() -> its ConfigDict}, part of every config so that a typo in any key is an
        error whatever the method.
      preset: fn(baseline preset config) -> the method's default run (what `--method=name` runs), in place.
      smoke: fn(cfg) that shrinks the method's own keys for `--smoke` (the shared keys are shrunk by
        config.presets.smoke).
      checks: fn(cfg) -> [problem, ...] of the method's keys; called for every config (return [] when they do not
        apply).
      plan_module: the module whose `plan(cfg, workdir)` returns the method's `training.experiment.Plan`; imported
        only when the method runs (it imports TensorFlow, and the CLI reports bad flags before that).
      generators: {model.g.arch value: "module:function"} generator builders the method adds to the model registry,
        each fn(cfg, ch) -> an unbuilt generator; imported when such a generator is built.
    """
    name: str
    help: str
    plan_module: str
    sections: Mapping[str, Callable] = dataclasses.field(default_factory=dict)
    preset: Callable = lambda cfg: cfg
    smoke: Callable = lambda cfg: cfg
    checks: Callable = lambda cfg: []
    generators: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def plan(self, cfg, workdir):
        """The method's sub-runs for `cfg` in `workdir` (a training.experiment.Plan)."""
        return importlib.import_module(self.plan_module).plan(cfg, workdir)


def register(method):
    """Adds `method` to the registry (once per name); returns it."""
    if method.name in _METHODS and _METHODS[method.name] is not method:
        raise ValueError(f"method {method.name!r} is registered twice")
    _METHODS[method.name] = method
    return method


def get(name):
    """The registered method `name`; a ValueError names the registered ones."""
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {names()}")
    return _METHODS[name]


def names():
    """Every registered method name, in registration order."""
    return list(_METHODS)


def methods():
    """Every registered Method, in registration order."""
    return list(_METHODS.values())


def generator_builder(arch):
    """The builder fn(cfg, ch) a registered method adds for `model.g.arch=arch`, or None."""
    for method in _METHODS.values():
        if arch in method.generators:
            module_name, function = method.generators[arch].split(":")
            return getattr(importlib.import_module(module_name), function)
    return None


def generator_archs():
    """The generator architectures registered methods add."""
    return [arch for method in _METHODS.values() for arch in method.generators]
