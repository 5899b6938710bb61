"""Every method the package runs. Importing a method's `method` module registers it (config.registry); adding a
method is one folder plus one line here. The package's __init__ imports this module, so the registry is complete
whenever any part of tfgan_eff is imported."""

from tfgan_eff.baseline import method as _baseline  # noqa: F401  (imported to register)
from tfgan_eff.distill import method as _dgl  # noqa: F401
from tfgan_eff.sparse import method as _sparse  # noqa: F401
from tfgan_eff.search import method as _search  # noqa: F401
from tfgan_eff.compress import method as _compress  # noqa: F401
