"""User accounts: token checks and their cache, registration and login, Google sign-in."""
