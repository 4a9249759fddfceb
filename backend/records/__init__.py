"""Records: the rows of collections, their service and API, batches, idempotent retries and the demo data."""
