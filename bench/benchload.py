# SPDX-License-Identifier: Apache-2.0
"""benchload.py: what the Linux bench scripts load by path: linux-boot.py
(the direct and pvhv boot machinery, ROOT), and load() for the others
(linux-net.py, the integration harness): their file names are not module
names.  Importers set sys.dont_write_bytecode first (no bench/__pycache__)."""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    """The Python file at path, loaded as module name."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


lb = load("linux_boot", os.path.join(HERE, "linux-boot.py"))
ROOT = lb.ROOT
