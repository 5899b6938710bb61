"""Nested mappings (dicts, ConfigDicts) as flat {dotted key: leaf value}: the one flattener every layer uses."""


def flatten(mapping, prefix=""):
    """{'a': {'b': 1}, 'c': 2} -> {'a.b': 1, 'c': 2}; a value with `items()` (dict, ConfigDict) is descended into."""
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if hasattr(value, "items"):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat
