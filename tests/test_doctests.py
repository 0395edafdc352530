"""Every docstring example in the library runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["tinygrad_mvc", "tinygrad_mvc.tensor", "tinygrad_mvc.engine", "tinygrad_mvc.ops",
           "tinygrad_mvc.creation", "tinygrad_mvc.finite_diff", "tinygrad_mvc.gradcheck",
           "tinygrad_mvc.forward", "tinygrad_mvc.transforms", "tinygrad_mvc.taylor", "tinygrad_mvc.viz.taylor",
           "tinygrad_mvc.viz.graph", "tinygrad_mvc.expr", "tinygrad_mvc.viz.fd_error",
           "tinygrad_mvc.cli.bench", "tinygrad_mvc.nn", "tinygrad_mvc.losses", "tinygrad_mvc.optim",
           "tinygrad_mvc.datasets", "tinygrad_mvc.viz.training", "tinygrad_mvc.optimize", "tinygrad_mvc.fit",
           "tinygrad_mvc.viz.descent", "tinygrad_mvc.viz.fit", "tinygrad_mvc.cli.fit"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
