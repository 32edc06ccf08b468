#!/usr/bin/env python
"""Evolve Keras networks: ``python run_evolution.py --help``."""

import sys

from evolve.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
