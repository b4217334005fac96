"""Use cases shared by the API, the bots and the CLI: plain async functions over a ``Platform``."""
