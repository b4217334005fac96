"""The framework-free conversation: what the bot says and does for each update.

``dispatch.Conversation`` is the entry point; ``context`` holds what handlers share; one module
per feature (account, payments, preferences, transcribe, speak, groups).
"""
