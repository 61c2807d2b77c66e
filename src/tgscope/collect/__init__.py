"""Collectors: fetching from the network into the archive.

``http`` is the one HTTP seam (politeness, retries, limits), ``web_sync`` walks the public
web preview (t.me/s), ``api_sync`` reads through the Telegram API (Telethon, optional).
"""
