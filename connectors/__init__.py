"""Clients for the remote systems: one package per system, plus the pieces they share.

Nothing here imports Django or the sandboxes (DESIGN.md §4): a client is built from plain
settings (base URLs, credentials) with injected collaborators (a token store, limiters, an httpx
transport for tests), so the same code talks to the sandboxes and to the real services.
"""

import warnings

# Authlib installs an "always" filter for its deprecation warnings when authlib.deprecate is
# first imported; import it first so the filter below comes before (wins over) that one.
import authlib.deprecate  # noqa: F401, E402

# Authlib >= 1.8 prefers the httpx2 fork and warns once it runs on httpx, which we pin on purpose
# (reference/libraries.md; tests/test_project.py asserts Authlib still subclasses httpx.Client).
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
