"""Credential keys of the AWS clients (S3 files, DynamoDB); a helper, not a family."""
AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region")
AWS_SECRETS = ("aws_secret_access_key", "aws_session_token")
