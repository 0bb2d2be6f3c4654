"""Services above the packages: the HTTP API's glue (models, dependencies, typed calls)."""
