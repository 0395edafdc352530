"""Every docstring example in the library runs and prints what it says."""

import doctest
import importlib

import numpy as np
import pytest

MODULES = ["tinygrad_mvc", "tinygrad_mvc.tensor", "tinygrad_mvc.engine", "tinygrad_mvc.ops",
           "tinygrad_mvc.creation", "tinygrad_mvc.finite_diff", "tinygrad_mvc.gradcheck",
           "tinygrad_mvc.forward", "tinygrad_mvc.transforms", "tinygrad_mvc.taylor", "tinygrad_mvc.viz.taylor",
           "tinygrad_mvc.viz.graph", "tinygrad_mvc.expr", "tinygrad_mvc.viz.fd_error",
           "tinygrad_mvc.cli.bench", "tinygrad_mvc.nn", "tinygrad_mvc.losses", "tinygrad_mvc.optim",
           "tinygrad_mvc.datasets", "tinygrad_mvc.viz.training", "tinygrad_mvc.optimize", "tinygrad_mvc.fit",
           "tinygrad_mvc.viz.descent", "tinygrad_mvc.viz.fit", "tinygrad_mvc.cli.fit", "tinygrad_mvc.viz.trace",
           "tinygrad_mvc.viz.animate", "tinygrad_mvc.sparsity", "tinygrad_mvc.compile", "tinygrad_mvc.linalg",
           "tinygrad_mvc.pytree", "tinygrad_mvc.lr_scheduler", "tinygrad_mvc.arguments",
           "tinygrad_mvc.newton_step",  # issue 16 (algo16): the shared Newton step rule
           # the course's pictures (issue 16)
           "tinygrad_mvc.viz.histogram", "tinygrad_mvc.viz.lagrange", "tinygrad_mvc.viz.surface",
           "tinygrad_mvc.viz.field"]
# the course package (issue 16, the gallery)
MODULES += ["tinygrad_mvc.course", "tinygrad_mvc.course.jobs", "tinygrad_mvc.course.gallery",
            "tinygrad_mvc.course.calculus", "tinygrad_mvc.course.curve_network"]
# the playground (issue 17): its server side; each tab module is added by its tab
MODULES += ["tinygrad_mvc.playground", "tinygrad_mvc.playground.sessions", "tinygrad_mvc.playground.protocol",
            "tinygrad_mvc.playground.security", "tinygrad_mvc.playground.app", "tinygrad_mvc.playground.tabs.sandpit"]
MODULES += ["tinygrad_mvc.playground.tabs.lagrange", "tinygrad_mvc.playground.tabs.graph",
            "tinygrad_mvc.playground.tabs.network"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    # ``tg`` and ``np`` are at hand in every example, as in the API reference
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             extraglobs={"tg": importlib.import_module("tinygrad_mvc"), "np": np})
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
