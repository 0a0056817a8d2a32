"""What every layer shares and nothing else: value types and errors that `storage`, `bot.plum`
and the layers above them all speak (the Plum token set and its store interface, the
configuration error). It imports nothing from the rest of the project."""
