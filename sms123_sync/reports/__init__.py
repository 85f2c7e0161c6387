"""Stage 5 — telling people what a run will do or did.

``document`` builds the report document (versioned JSON schema in ``schema.json``) and
writes it in each format; ``terminal`` renders plans, outcomes and runs on a console.

May import every stage above it to read their results; nothing imports it but the CLI.
"""
