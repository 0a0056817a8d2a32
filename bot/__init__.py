"""rewardbot: a Slack bot that sends Xoxoday Plum reward points."""

__version__ = "0.1.0"
