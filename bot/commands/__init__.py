"""One module per `rewardbot` subcommand; each exposes `register(subparsers)`."""
