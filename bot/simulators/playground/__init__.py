"""`rewardbot playground`: the whole bot on one machine, without Slack or Xoxoday.

One process runs the bot in HTTP mode, the Plum sandbox and a stand-in Slack workspace (the
fake Slack Web API of the end-to-end tests plus a web page) at http://127.0.0.1:3000. See
`server.Playground`.
"""
