"""User-defined collections: their definitions, record tables, schema changes, and the filter and sort languages."""
