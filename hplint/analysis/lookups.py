"""The kinds of disk look-up the project index records for the result cache
(kept apart so the cache can check them without importing the analysis)."""

FILE = "file"  # os.path.isfile: an import candidate
EXISTS = "exists"  # os.path.exists: an __init__.py or a project marker
