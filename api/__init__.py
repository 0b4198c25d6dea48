"""Entry points for people: the command line (and, later, the Flask JSON API and web pages)."""
