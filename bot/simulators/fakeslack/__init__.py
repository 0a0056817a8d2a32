"""A fake Slack on loopback for end-to-end tests and the local playground.

FakeSlack serves the Web API the bot calls (and records every call), Workspace holds the people,
channels, messages, views and files, SlackDriver posts signed Slack requests to the bot.
"""

from bot.simulators.fakeslack.driver import SlackDriver
from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.fake import FakeSlack
from bot.simulators.fakeslack.signing import sign_request
from bot.simulators.fakeslack.workspace import Workspace

__all__ = ["FakeSlack", "SlackDriver", "SlackError", "Workspace", "sign_request"]
