"""Comma-separated values (config keys such as export.modes, CLI lists): the one parser every layer uses."""


def comma_list(value):
    """The non-empty, stripped items of a comma-separated string: "a, b,,c" -> ["a", "b", "c"]."""
    return [item.strip() for item in value.split(",") if item.strip()]
