"""One module per ``patrol`` subcommand; each exposes ``register(subparsers)``."""
