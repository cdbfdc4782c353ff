"""Presentation: tables, JSON, CSV and messages. Nothing here touches the database."""
