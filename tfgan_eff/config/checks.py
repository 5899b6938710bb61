"""Small checks of config values, each returning a list of problems (shared by validate and the methods' checks)."""


def get(cfg, dotted):
    """cfg's value at a dotted key ("train.g_opt.lr")."""
    value = cfg
    for part in dotted.split("."):
        value = value[part]
    return value


def choice(value, name, choices):
    """A problem when `value` is not one of `choices`."""
    return [] if value in choices else [f"{name}={value!r} is not one of {list(choices)}"]


def positive(cfg, keys):
    """A problem for each dotted key whose value is not > 0."""
    return [f"{k} must be > 0, got {v}" for k, v in ((k, get(cfg, k)) for k in keys) if not v > 0]


def non_negative(cfg, hints):
    """A problem for each key of `hints` ({dotted key: what 0 means, or ""}) whose value is negative."""
    return [f"{k} must be >= 0{f' ({hint})' if hint else ''}, got {get(cfg, k)}" for k, hint in hints.items()
            if not get(cfg, k) >= 0]


def fraction(cfg, keys, low_open=False):
    """A problem for each dotted key whose value is outside [0, 1] ((0, 1] with low_open)."""
    problems = []
    for key in keys:
        value = get(cfg, key)
        above_low = 0 < value if low_open else 0 <= value
        if not above_low or not value <= 1:
            problems.append(f"{key} must be in {'(0' if low_open else '[0'}, 1], got {value}")
    return problems
