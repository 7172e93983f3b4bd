"""Version numbers of the ganzoo core.

``__version__`` is the distribution version.  ``API_VERSION`` is the version of the plugin contract
(the hook specifications and the objects passed through them); plugins declare which API versions
they support; the core speaks every version in ``SUPPORTED_API_VERSIONS`` and talks to each plugin in the
newest version its declaration includes (API-1 plugins keep API-1 behaviour: ``None`` from a hook falls back to
the core default, samplers run under ``torch.no_grad``).  A declaration including none of them is refused.
"""

__version__ = "0.1.0"
API_VERSION = "2.0"
SUPPORTED_API_VERSIONS: tuple[str, ...] = ("1.0", "2.0")
