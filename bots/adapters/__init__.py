"""Adapters from Telegram frameworks (aiogram 3, python-telegram-bot 22) to the conversation."""
