"""Zero-cost proxies: pre-training scores of an architecture at initialisation (torch layer).

``PROXIES`` maps a name to ``function(model, x, y) -> float`` (higher predicts a lower error);
adding a proxy is one entry there. :func:`proxies_of` computes them for an ArchSpec and a recipe.
"""

from nasx.proxies.compute import check_names, proxies_of
from nasx.proxies.measures import PROXIES, Proxy

__all__ = ["PROXIES", "Proxy", "check_names", "proxies_of"]
