"""The office server (`stillroom serve`): an OpenAI-compatible HTTP API over the same turn,
policy, store and engines as the desktop. Never imports app.gui."""
