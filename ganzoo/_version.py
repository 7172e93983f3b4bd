"""Version numbers of the ganzoo core.

``__version__`` is the distribution version.  ``API_VERSION`` is the version of the plugin contract
(the hook specifications and the objects passed through them); plugins declare which API versions
they support and the core refuses a plugin whose declaration does not include this one.
"""

__version__ = "0.1.0"
API_VERSION = "1.0"
