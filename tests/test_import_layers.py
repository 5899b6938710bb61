"""The package's imports run one way, down the layers of README's Layout; lazy imports only where they are meant."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tfgan_eff"

# Low to high. A module may import its own package's modules and the packages of lower layers only.
LAYERS = [
    # errors.py (the UserError base), files.py (atomic writes), tf_logs.py (TF's log settings), lists.py (the
    # comma-list parser), nested.py (dotted-key flattening): import nothing from the package
    ("errors", "files", "tf_logs", "lists", "nested"),
    ("data", "ops", "losses"),
    ("metrics", "export", "config"),
    ("models",),
    ("training",),
    ("pieces",),  # the methods' trainer pieces (teacher guidance, sparse weights), composable by any method
    ("baseline", "distill", "sparse", "search", "compress"),  # the methods: none imports another
    ("<top>",),  # tfgan_eff/*.py (train, train_lib, methods, inference, evaluate) and the CLIs' __main__
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# Imports inside functions, each for a stated reason: the CLIs parse flags before TensorFlow loads, `import
# tfgan_eff` stays TensorFlow-free, and tensorflow_datasets / scikit-learn (seconds to import) load only for the
# `tfds:` / `digits` source that needs them.
LAZY = {
    ("tfgan_eff", "tfgan_eff.inference"),
    ("tfgan_eff.train", "tfgan_eff.train_lib"),
    ("tfgan_eff.evaluate", "tfgan_eff.inference"),
    ("tfgan_eff.evaluate", "tfgan_eff.config.presets"),
    ("tfgan_eff.evaluate", "tensorflow"),
    ("tfgan_eff.evaluate", "tfgan_eff.data.sources"),
    ("tfgan_eff.evaluate", "tfgan_eff.training.evaluator"),
    ("tfgan_eff.export.__main__", "tfgan_eff.inference"),
    ("tfgan_eff.export.__main__", "tfgan_eff.export"),
    ("tfgan_eff.export.__main__", "tfgan_eff.training.workdir"),
    ("tfgan_eff.evaluate", "tfgan_eff.training.workdir"),
    ("tfgan_eff.data.sources", "tensorflow_datasets"),
    ("tfgan_eff.data.offline", "sklearn.datasets"),
    ("tfgan_eff.tf_logs", "tensorflow"),  # imported with stderr silenced: the import is the point
}


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module):
    parts = module.split(".")
    if len(parts) < 2 or parts[-1] == "__main__" or (len(parts) == 2 and parts[1] not in RANK):
        return "<top>"
    return parts[1]


def _submodule(module, name):
    """`module.name` when `from module import name` imports a module of the package, else `module`."""
    path = PACKAGE.parent.joinpath(*module.split("."), name)
    return f"{module}.{name}" if path.with_suffix(".py").is_file() or path.is_dir() else module


def _imports(tree):
    """[(imported module, at module level?)] of a parsed module."""
    found = []

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.extend((_submodule(child.module, alias.name), inner) for alias in child.names)
            visit(child, inner)

    visit(tree, True)
    return found


def _all_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for imported, top in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            yield module, imported, top


def test_imports_run_down_the_layers():
    upward = []
    for module, imported, _ in _all_imports():
        if not imported.startswith("tfgan_eff.") or module == "tfgan_eff":
            continue  # the package root imports tfgan_eff.methods to fill the registry
        mine, theirs = _layer(module), _layer(imported)
        if mine != theirs and RANK[theirs] >= RANK[mine]:
            upward.append(f"{module} -> {imported}")
    assert not upward, "imports that run up (or across) the layers:\n" + "\n".join(upward)


def test_function_level_imports_are_only_the_intended_lazy_ones():
    lazy = {(module, imported) for module, imported, top in _all_imports() if not top}
    assert lazy == LAZY
