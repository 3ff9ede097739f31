"""Credential keys of the AWS clients (S3 files, DynamoDB); a helper, not a family."""
AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region")
AWS_SECRETS = ("aws_secret_access_key", "aws_session_token")
AWS_LABELS = {
    "aws_access_key_id": "AWS access key ID",
    "aws_secret_access_key": "AWS secret access key",
    "aws_session_token": "AWS session token",
    "region": "AWS region",
}
