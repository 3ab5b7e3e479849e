"""What every OCX part shares: app factory, errors, settings, database, token verification."""
