"""ytmaker: turn a text into a narrated video and publish it."""

__version__ = "0.1.0"
