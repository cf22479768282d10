"""SQL of users and revoked tokens."""
