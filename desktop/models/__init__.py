"""Table models: rows from the API, shown by column specs."""
