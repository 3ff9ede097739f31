"""Document stores, key-value stores and search engines."""
from datasources.connectors.base import DATABASE_FIELDS, Connector

AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region")
AWS_SECRETS = ("aws_secret_access_key", "aws_session_token")


class NoSqlConnector(Connector):
    family = "nosql"
    required = DATABASE_FIELDS


class MongoConnector(NoSqlConnector):
    type_name, label, default_port = "mongodb", "MongoDB", 27017
    schemes = ("mongodb", "mongodb+srv")


class ElasticsearchConnector(NoSqlConnector):
    type_name, label, default_port = "elasticsearch", "Elasticsearch", 9200
    schemes = ("http", "https", "elasticsearch")


class RedisConnector(NoSqlConnector):
    type_name, label, default_port = "redis", "Redis", 6379
    schemes = ("redis", "rediss")


class CassandraConnector(NoSqlConnector):
    type_name, label, default_port = "cassandra", "Apache Cassandra", 9042
    schemes = ("cassandra",)


class DynamoDbConnector(NoSqlConnector):
    type_name, label, default_port = "dynamodb", "Amazon DynamoDB", 443
    schemes = ("http", "https", "dynamodb")
    credential_keys = AWS_KEYS
    secret_keys = AWS_SECRETS
