"""``python -m sms123_sync`` runs the command line."""

from sms123_sync.cli import main

main()
