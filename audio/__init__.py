"""Broadcast messages: text-to-speech, imported recordings, loudness, broadcast plans, the agent."""
