"""User-defined collections: their definitions, record tables, schema changes and the filter language."""
