"""alliance: track the therapeutic alliance (bond, goals, tasks) from session to session."""

__version__ = "0.1.0"
