"""A fake Slack on loopback for end-to-end tests and the local playground.

FakeSlack serves the Web API the bot calls (and records every call), Workspace holds the people,
channels, messages, views and files, SlackDriver posts signed Slack requests to the bot.
"""

from bot.fakeslack.driver import SlackDriver
from bot.fakeslack.errors import SlackError
from bot.fakeslack.fake import FakeSlack
from bot.fakeslack.signing import sign_request
from bot.fakeslack.workspace import Workspace

__all__ = ["FakeSlack", "SlackDriver", "SlackError", "Workspace", "sign_request"]
