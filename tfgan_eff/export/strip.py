"""Hook that turns a trained generator into a plain inference model before export."""


def prepare_for_export(generator):
    """Returns an inference copy of `generator`: `generator.strip_for_export()` if it defines one
    (e.g. sparse generators drop their masks), otherwise the generator itself."""
    strip = getattr(generator, "strip_for_export", None)
    return strip() if callable(strip) else generator
