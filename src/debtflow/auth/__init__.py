"""Sign-in, roles and scoping: who may see and do what."""
