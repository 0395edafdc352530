"""Shared test settings: hypothesis profiles sized so the whole suite stays fast.

``HYPOTHESIS_PROFILE=thorough pytest`` runs many more examples per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,  # the first call of an op pays for imports and caches; timing is not a property here
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
