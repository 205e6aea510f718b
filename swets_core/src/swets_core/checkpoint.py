"""Checkpoints: save a model (and optionally its training state) to a file and rebuild it by name.

This module is independent of the on-disk format: the bytes are written and read by a *serializer*
taken from the registry (kind ``serializers``, see :mod:`swets_core.serializer`); with
``serializer=None`` the one installed serializer is used. It never imports a serializer's libraries.

A checkpoint holds the model's registry name, its ``config()`` and its ``state_dict()``; when saved
from training, a ``training_state`` mapping (optimizer and scheduler state dicts, epoch and step
counters, RNG state, scaler state, data-loader position...); and metadata: the payload format
version, the swets version, the distribution and version that provided each component, the creation
time (UTC, ISO 8601) and user metadata.

Loading rebuilds the model with ``registry.create("models", name, **config)`` -- never from an import
path read from the file -- and loads its state strictly. See ``docs/checkpoint-format.md``.

Layers of the API (each also importable from here):

* :func:`save_checkpoint` / :func:`load_checkpoint`: models and training state (this module).
* :func:`save_payload` / :func:`load_payload`: any tree of plain data and arrays (this module).
* :func:`register_migration`: functions upgrading payload format version ``N`` to ``N + 1`` (this
  module).
* :func:`encode_tree` / :func:`decode_tree` and the checks serializers share
  (:mod:`swets_core.plaindata`): the lossless mapping between rich Python values (tuples, integer
  keys, big integers, numpy scalars) and the *plain* payload a serializer stores.
* :func:`generator_state` / :func:`restore_generator` (:mod:`swets_core.rng`): RNG state.
* :func:`atomic_write` (:mod:`swets_core.atomic`): the crash-safe file replacement serializers write
  through.
* :func:`check_payload`, :func:`field_error`, :func:`strict_loading` (:mod:`swets_core.schema`):
  every field of a payload checked by type, and what loads but cannot forecast.

Loading trusts nothing in the file: only a regular file is opened, every field is checked, and the
model is built under a parameter budget of the values the file stores (:func:`build_limit`,
:mod:`swets_core.budget`), so a configuration that does not describe the stored tensors fails at
once instead of allocating what it asks for.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from swets_core import __version__
from swets_core import registry as _registry
from swets_core.atomic import TEMP_SUFFIX, atomic_write, remove_stale_temporaries
from swets_core.autograd import Tensor
from swets_core.budget import parameter_budget
from swets_core.checks import is_int
from swets_core.errors import (
    CheckpointError,
    ConfigError,
    StateDictError,
    SwetsError,
    UnknownComponentError,
)
from swets_core.module import Module
from swets_core.plaindata import (
    ALLOWED_DTYPES,
    MAX_DEPTH,
    check_array,
    check_depth,
    check_text,
    decode_tree,
    encode_tree,
    format_path,
)
from swets_core.rng import generator_state, restore_generator
from swets_core.schema import (
    PAYLOAD_FORMAT,
    STRICT_ENV,
    CheckpointWarning,
    check_payload,
    describe_value,
    field_error,
    nonfinite_problems,
    report_suspect,
    strict_loading,
)
from swets_core.serializer import detect_serializer, open_checkpoint, resolve_serializer

FORMAT_VERSION = 1
"""The payload format version this swets writes (and the newest it reads)."""

DEFAULT_SERIALIZER = None
"""The ``serializer`` argument's default: None, the one installed serializer."""


class CheckpointStateError(CheckpointError, StateDictError):
    """The state stored in a checkpoint does not fit the rebuilt model.

    Both a :class:`~swets_core.errors.CheckpointError` and a
    :class:`~swets_core.errors.StateDictError`: ``problems`` lists every missing or unexpected key
    and every shape or dtype mismatch.
    """


# -- payloads -------------------------------------------------------------------------------------
def save_payload(
    path: str | os.PathLike[str],
    payload: Mapping[str, Any],
    *,
    serializer: Any = DEFAULT_SERIALIZER,
) -> None:
    """Write a payload (a dict of rich plain data, see :func:`encode_tree`) crash-safely.

    Args:
        path: the target file; it is replaced atomically (see :func:`atomic_write`).
        payload: a mapping with ``str`` keys.
        serializer: a registered serializer name, a serializer object, or None for the one
            installed serializer.

    Raises:
        CheckpointError: a value cannot be stored, or the serializer is unknown (or, for None,
            not exactly one serializer is installed).
    """
    if not isinstance(payload, Mapping):
        raise CheckpointError(f"a payload must be a mapping, got {type(payload).__name__}")
    ser, _ = resolve_serializer(serializer)
    plain = encode_tree(payload)
    if not all(isinstance(k, str) and not k.startswith("\x00") for k in payload):
        raise CheckpointError("the keys of a payload's top-level mapping must be str")
    try:
        ser.save(plain, os.fspath(path))
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {os.fspath(path)!r}: {exc}") from exc


def load_payload(path: str | os.PathLike[str], *, serializer: Any = None) -> dict[str, Any]:
    """Read a payload written by :func:`save_payload` (no migration, no model building).

    Args:
        serializer: a registered name, a serializer object, or None to pick the installed serializer
            that recognises the file.

    Raises:
        CheckpointError: the file is missing, corrupt, hostile or of an unknown version.
    """
    path = os.fspath(path)
    if serializer is None:
        ser = detect_serializer(path)  # refuses what is not a regular file
    else:
        ser = resolve_serializer(serializer)[0]
        open_checkpoint(path).close()  # a named pipe must not reach a serializer's reader
    try:
        plain = ser.load(path)
    except CheckpointError:
        raise
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path!r}: {exc}") from exc
    if not isinstance(plain, dict):
        raise CheckpointError(f"{path}: the payload is a {type(plain).__name__}, not a mapping")
    try:
        payload = decode_tree(plain)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    if not isinstance(payload, dict):  # a tagged value at the root
        raise CheckpointError(f"{path}: the payload is a {type(payload).__name__}, not a mapping")
    return payload


# -- migrations -----------------------------------------------------------------------------------
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def register_migration(
    from_version: int, fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None
) -> Any:
    """Register ``fn(payload) -> payload`` upgrading format version ``from_version`` to ``from_version + 1``.

    Usable as a decorator (``@register_migration(1)``). The function receives the decoded payload
    of version ``from_version`` and returns the upgraded payload; :func:`load_checkpoint` sets its
    ``format_version`` field and chains migrations until :data:`FORMAT_VERSION` is reached.

    Raises:
        ConfigError: a migration from that version is already registered (or a bad version).
    """

    if not is_int(from_version) or from_version < 0:
        raise ConfigError(f"from_version must be a non-negative int, got {from_version!r}")

    def add(
        f: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        if from_version in _MIGRATIONS:
            raise ConfigError(
                f"a migration from format version {from_version} is already registered"
            )
        _MIGRATIONS[from_version] = f
        return f

    return add if fn is None else add(fn)


def unregister_migration(from_version: int) -> None:
    """Remove the migration from ``from_version`` (no error if there is none)."""
    _MIGRATIONS.pop(from_version, None)


def migrate(payload: dict[str, Any], source: str = "payload") -> dict[str, Any]:
    """Upgrade a decoded checkpoint payload to :data:`FORMAT_VERSION`.

    Raises:
        CheckpointError: no or a malformed version field, a version newer than this swets reads, a
            missing migration step, or a migration that failed.
    """
    version = payload.get("format_version")
    if not is_int(version) or version < 0:
        what = "is missing" if "format_version" not in payload else f"is {describe_value(version)}"
        raise CheckpointError(
            f"{source}: missing or invalid format_version (field 'format_version' {what}, "
            "expected an int >= 0)"
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{source}: checkpoint format version {version} is newer than this swets reads "
            f"(up to {FORMAT_VERSION}); upgrade swets-core"
        )
    while version < FORMAT_VERSION:
        step = _MIGRATIONS.get(version)
        if step is None:
            raise CheckpointError(
                f"{source}: checkpoint format version {version} is too old: no migration to "
                f"version {version + 1} is registered"
            )
        try:
            upgraded = step(payload)
        except SwetsError:
            raise
        except Exception as exc:
            raise CheckpointError(
                f"{source}: migration from format version {version} failed: {exc}"
            ) from exc
        if not isinstance(upgraded, dict):
            raise CheckpointError(
                f"{source}: migration from format version {version} returned "
                f"{type(upgraded).__name__}, not a dict"
            )
        version += 1
        upgraded["format_version"] = version
        payload = upgraded
    return payload


# -- checkpoints ----------------------------------------------------------------------------------
@attrs.frozen
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        model: the model rebuilt through the registry, its state loaded strictly.
        training_state: the training state mapping given to :func:`save_checkpoint`, exactly as
            saved (arrays bitwise, tuples, int keys, numpy scalars), or None when none was saved.
        metadata: ``format_version``, ``swets_version``, ``created`` (UTC ISO 8601), ``components``
            (a list of ``{kind, name, distribution, version, plugin}``) and ``user`` (the user
            metadata mapping).
        model_name: the model's registry name.
        config: the configuration the model was rebuilt from.
        path: the file it was read from.
    """

    model: Any
    training_state: dict[str, Any] | None
    metadata: dict[str, Any]
    model_name: str
    config: dict[str, Any]
    path: str

    @property
    def user_metadata(self) -> dict[str, Any]:
        """The ``metadata`` mapping given to :func:`save_checkpoint`."""
        return self.metadata.get("user", {})

    @property
    def components(self) -> list[dict[str, Any]]:
        """Which distribution and version provided each component when the file was saved."""
        return self.metadata.get("components", [])


def model_registry_name(model: Any, name: str | None = None) -> str:
    """The registry name a model is saved under.

    In order: ``name`` when given; the model's ``registry_name`` attribute when set; otherwise the
    single name of the ``models`` registry whose factory is the model's class.

    Raises:
        CheckpointError: the name cannot be determined or does not match the model's class.
    """
    reg = _registry.default_registry()
    if name is None:
        name = getattr(model, "registry_name", None)
    if name is not None:
        if not isinstance(name, str) or not name:
            raise CheckpointError(f"a model registry name must be a non-empty str, got {name!r}")
        try:
            factory = reg.get("models", name)
        except SwetsError as exc:
            raise CheckpointError(
                f"cannot save {type(model).__name__} as model {name!r}: {exc}"
            ) from exc
        if isinstance(factory, type) and not isinstance(model, factory):
            raise CheckpointError(
                f"model {name!r} is registered as {factory.__name__}, but the model given is a "
                f"{type(model).__name__}"
            )
        return name
    matches = [c.name for c in reg.items("models") if c.obj is type(model)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CheckpointError(
            f"{type(model).__name__} is not registered as a model (no entry of the 'models' "
            "registry has it as its factory); register it, set its registry_name, or pass name="
        )
    raise CheckpointError(
        f"{type(model).__name__} is registered under several names ({', '.join(matches)}); "
        "pass name= to choose one"
    )


def _component(kind: str, name: str) -> dict[str, Any]:
    info = _registry.info(kind, name)
    return {
        "kind": kind,
        "name": name,
        "distribution": info.distribution,
        "version": info.version,
        "plugin": info.plugin,
    }


def _float_dtype(state: Mapping[str, np.ndarray]) -> str | None:
    kinds = {str(a.dtype) for a in state.values() if a.dtype.kind == "f"}
    return kinds.pop() if len(kinds) == 1 else None


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Any,
    *,
    training_state: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    serializer: Any = DEFAULT_SERIALIZER,
    name: str | None = None,
    components: Iterable[tuple[str, str]] = (),
) -> None:
    """Save ``model`` (and optionally its training state) to ``path``, crash-safely.

    Args:
        path: the checkpoint file; replaced atomically, so a crash leaves the old file or the new one.
        model: a :class:`~swets_core.module.Module` (or any ``Layer``) with ``config() -> dict``.
            Its registry name comes from ``name``, else ``model.registry_name``, else the ``models``
            registry entry whose factory is the model's class (:func:`model_registry_name`).
        training_state: plain data to resume training: by convention ``optimizer``, ``scheduler``
            (state dicts), ``epoch``, ``step``, ``rng`` (:func:`generator_state`), ``scaler``,
            ``loader`` (position), and anything else. Round-trips exactly.
        metadata: user metadata (plain data), returned as ``Checkpoint.user_metadata``.
        serializer: a registered serializer name, a serializer object, or None (the default) for
            the one installed serializer (several installed: name one).
        name: the model's registry name, overriding the lookup.
        components: extra ``(kind, name)`` pairs (e.g. ``("optimizers", "adam")``) whose providing
            distribution and version are recorded in the metadata.

    Raises:
        CheckpointError: the model has no registry name or config, or a value cannot be stored.
    """
    model_name = model_registry_name(model, name)
    config_fn = getattr(model, "config", None)
    if not callable(config_fn):
        raise CheckpointError(
            f"model {model_name!r} ({type(model).__name__}) has no config() method; a checkpoint "
            "rebuilds models from their configuration"
        )
    config = config_fn()
    if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
        raise CheckpointError(
            f"model {model_name!r}: config() must return a dict with str keys, got {type(config).__name__}"
        )
    try:
        state = model.state_dict(copy=False)
    except TypeError:
        state = model.state_dict()
    state = {k: (v._data if isinstance(v, Tensor) else np.asarray(v)) for k, v in state.items()}
    ser, ser_name = resolve_serializer(serializer)
    comps = [_component("models", model_name)]
    if ser_name is not None and ser_name in _registry.names("serializers"):
        comps.append(_component("serializers", ser_name))
    for kind, cname in components:
        try:
            comps.append(_component(kind, cname))
        except SwetsError as exc:
            raise CheckpointError(f"cannot record component {kind}/{cname}: {exc}") from exc
    payload = {
        "format": PAYLOAD_FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {
            "name": model_name,
            "config": dict(config),
            "dtype": _float_dtype(state),
            "state": state,
        },
        "training": None if training_state is None else dict(training_state),
        "metadata": {
            "swets_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
            "components": comps,
            "user": {} if metadata is None else dict(metadata),
        },
    }
    save_payload(path, payload, serializer=ser)


def _saved_by(components: list[dict[str, Any]], kind: str, name: str) -> str:
    for c in components:
        if c.get("kind") == kind and c.get("name") == name:
            return f"{c.get('distribution', '?')} {c.get('version', '?')}"
    return "an unrecorded distribution"


def load_checkpoint(
    path: str | os.PathLike[str], *, serializer: Any = None, strict: bool | None = None
) -> Checkpoint:
    """Load a checkpoint: rebuild the model by registry name and load its state strictly.

    Args:
        path: a file written by :func:`save_checkpoint`.
        serializer: a registered name, a serializer object, or None to detect it from the file.
        strict: refuse (instead of warning about) weights holding NaN or infinite values; None
            reads ``SWETS_STRICT_CHECKPOINTS`` (:func:`strict_loading`).

    Returns:
        A :class:`Checkpoint` (model, training_state, metadata, ...).

    Raises:
        CheckpointError: the file is not a regular file, is corrupt, hostile or of an unknown
            version; a field of the payload is missing or of the wrong type (the message names
            it); the model's plugin is not installed (the message names the component and the
            distribution that provided it); the configuration is rejected by the model or would
            create more parameter values than the file stores (see :mod:`swets_core.budget`); or,
            as :class:`CheckpointStateError` (also a ``StateDictError``), the stored state does
            not fit the rebuilt model (every problem counted, the first ones listed).

    Warns:
        CheckpointWarning: (lenient loading) a stored weight holds NaN or infinite values.
    """
    path = os.fspath(path)
    payload = migrate(load_payload(path, serializer=serializer), path)
    model_name, config, dtype, state, training, metadata = check_payload(payload, path)
    components = metadata.get("components", [])

    reg = _registry.default_registry()
    try:
        factory = reg.get("models", model_name)
    except UnknownComponentError:
        saved_by = _saved_by(components, "models", model_name)
        raise CheckpointError(
            f"{path}: needs model {model_name!r:.80}, which no installed plugin provides; when "
            f"saved it came from {saved_by}; install that distribution"
        ) from None
    except SwetsError as exc:  # registered twice
        raise CheckpointError(f"{path}: cannot rebuild model {model_name!r}: {exc}") from exc
    model = _build(factory, model_name, config, state, path)
    if dtype is not None and hasattr(model, "astype"):
        fresh = model.state_dict(copy=False) if _accepts_copy(model) else model.state_dict()
        if _float_dtype(fresh) not in (None, dtype):
            model.astype(dtype)
    try:
        if _accepts_assign(model):  # the arrays are fresh and private: adopt them, no copy
            model.load_state_dict(state, strict=True, assign=True)
        else:
            model.load_state_dict(state, strict=True)
    except StateDictError as exc:
        raise CheckpointStateError(f"model {model_name!r} from {path}", exc.problems) from exc
    report_suspect(nonfinite_problems(state, "model state"), path, strict)
    return Checkpoint(
        model=model,
        training_state=training,
        metadata={k: v for k, v in metadata.items()}
        | {"format_version": payload["format_version"]},
        model_name=model_name,
        config=config,
        path=path,
    )


BUILD_SLACK = 1 << 20
"""Parameter and buffer values a model built from a file may create beyond twice what it stores."""


def build_limit(stored: int) -> int:
    """The most parameter and buffer values a model rebuilt from a file storing ``stored`` values
    may create: ``2 * stored + BUILD_SLACK``. A model that matches its file creates exactly
    ``stored``; the margin lets a slightly different one be built so that the strict state
    comparison can list every mismatch, while a forged configuration cannot make loading allocate
    more than a small multiple of the file."""
    return 2 * stored + BUILD_SLACK


def _build(
    factory: Any, name: str, config: dict[str, Any], state: dict[str, Any], path: str
) -> Any:
    """``factory(**config)`` under a parameter budget (:func:`build_limit`) of the values the file
    stores: the stored tensors fix every shape, so a model far larger cannot be the one it
    describes."""
    stored = sum(int(a.size) for a in state.values())
    limit = build_limit(stored)
    budget = None
    try:
        with parameter_budget(limit, f"{path} allows", state_follows=True) as budget:
            model = factory(**config)
    except Exception as exc:  # a hostile configuration may make any plugin fail
        if budget is not None and budget.exceeded:
            raise _over_budget(path, name, stored, limit) from None
        if isinstance(exc, MemoryError):
            raise CheckpointError(
                f"{path}: model {name!r} with the saved configuration needs more memory than "
                "is available"
            ) from exc
        if isinstance(exc, TypeError) and not isinstance(exc, SwetsError):
            raise CheckpointError(
                f"{path}: model {name!r} cannot be built from the saved configuration "
                f"{sorted(config)[:20]}: {_short(exc)}"
            ) from exc
        what = "" if isinstance(exc, SwetsError) else f"{type(exc).__name__}: "
        raise CheckpointError(
            f"{path}: model {name!r} rejected the saved configuration: {what}{_short(exc)}"
        ) from exc
    if budget.exceeded:  # the factory caught the budget's error and went on
        raise _over_budget(path, name, stored, limit)
    return model


def _short(exc: BaseException, limit: int = 1000) -> str:
    """A plugin's message, cut at ``limit`` characters (a hostile configuration may be echoed)."""
    text = str(exc)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _over_budget(path: str, name: str, stored: int, limit: int) -> CheckpointError:
    return CheckpointError(
        f"{path}: model {name!r} with the saved configuration would create more than {limit:,} "
        f"parameter and buffer values, but the file stores {stored:,}: the configuration does not "
        "describe the stored tensors (the file is corrupt or forged)"
    )


def _accepts_assign(model: Any) -> bool:
    """True when ``model.load_state_dict`` takes ``assign=`` (PyTorch's name for adopting arrays)."""
    try:
        params = inspect.signature(model.load_state_dict).parameters
    except (TypeError, ValueError):
        return False
    return "assign" in params


def _accepts_copy(model: Any) -> bool:
    return isinstance(model, Module)


__all__ = [
    "ALLOWED_DTYPES",
    "BUILD_SLACK",
    "Checkpoint",
    "CheckpointStateError",
    "CheckpointWarning",
    "DEFAULT_SERIALIZER",
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "PAYLOAD_FORMAT",
    "STRICT_ENV",
    "TEMP_SUFFIX",
    "atomic_write",
    "build_limit",
    "check_array",
    "check_depth",
    "check_payload",
    "check_text",
    "decode_tree",
    "describe_value",
    "encode_tree",
    "field_error",
    "format_path",
    "generator_state",
    "load_checkpoint",
    "load_payload",
    "migrate",
    "model_registry_name",
    "nonfinite_problems",
    "register_migration",
    "remove_stale_temporaries",
    "report_suspect",
    "restore_generator",
    "save_checkpoint",
    "save_payload",
    "strict_loading",
    "unregister_migration",
]
