"""Collections: user-defined tables, their schemas, and the filter and sort languages that query them."""
