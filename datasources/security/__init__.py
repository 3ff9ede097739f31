"""The code whose job is to keep secrets and hosts safe: encrypted fields and key rotation,
connection-string parsing, the network policy for destinations, SSH host-key pins, safe archives.
"""
