"""The API operations, one router per domain."""
