"""The file family: stored files (CSV, JSON, Parquet, ORC, Excel, S3 objects) and zipped table formats."""
