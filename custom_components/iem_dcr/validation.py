"""The validation library Home Assistant runs with.

Home Assistant 2026.10 and later validate with probatio and alias `voluptuous` to
it at start-up; 2025.4 uses voluptuous itself. Importing from here gives the
type checker the library that is really in use.
"""

from __future__ import annotations

try:
    import probatio as vol
except ImportError:  # Home Assistant before 2026.10
    import voluptuous as vol  # type: ignore[no-redef]

__all__ = ["vol"]
