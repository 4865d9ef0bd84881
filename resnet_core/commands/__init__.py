"""Command-line code for the experiments: each module here defines ``register(subparsers)``.

Dependencies point one way: these modules import the experiments; experiments never import command-line code.
"""
