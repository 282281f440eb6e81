"""listen: who is waiting for a reply, across blogs and social networks."""

__version__ = "0.1.0"
