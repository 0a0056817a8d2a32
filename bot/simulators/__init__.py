"""Stand-ins for the outside world, for tests, benchmarks and the playground: a fake Slack Web
API (`fakeslack`), the Plum sandbox (`plum_sandbox`) and the playground that drives the real bot
through both (`playground`).

Production code never imports this package (an import-linter contract in `.ci/run` says so);
`bot.runtime` and the CLI load it lazily, only when the sandbox or the playground is asked for.
"""
