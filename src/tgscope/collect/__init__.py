"""Collectors: fetching from the network into the archive.

``http`` is the one HTTP seam (politeness, retries, limits), ``web_sync`` walks the public
web preview (t.me/s), ``api_sync`` reads through the Telegram API (Telethon, optional),
``report`` says what a sync did (ids seen and missing, kept as ranges).
"""
