"""f, f', f'' and f''' of f(x) = sin(x)·exp(-x²/4) by autodiff, checked against formulas and differences.

    python demos/derivatives.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/derivatives)

Writes derivatives.png (f and its derivatives) and derivative_errors.png (errors on a log scale),
and prints the largest errors. The code is in tinygrad_mvc/cli/derivatives.py, which
`tinygrad-mvc demo` runs too; the heart of it is three lines:

    x = tg.tensor(grid, requires_grad=True); y = f(x)
    y.sum().backward(create_graph=True)      # x.grad is f'(grid), a Tensor with a graph of its own
    y = x.grad; x.grad = None                # ...and again for f'', f'''
"""

import sys

from tinygrad_mvc.cli import derivatives
from tinygrad_mvc.cli.jobs import script_main

if __name__ == "__main__":
    sys.exit(script_main(derivatives.NAME, derivatives.run, __doc__.splitlines()[0]))
