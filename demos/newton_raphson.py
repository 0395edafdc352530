"""Newton-Raphson on the course's sextic, with the iterates drawn on the curve, and a start that cycles.

    python demos/newton_raphson.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/newton_raphson)

Writes newton_sextic.png (the tangent steps from three starts), newton_secant.png (Newton and the
secant method from one start reaching different roots) and newton_cycle.png (a start that
cycles), and prints where each start ends.
The same job runs as `tinygrad-mvc demo --job newton_raphson`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/optimisation.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["newton_raphson"]))
