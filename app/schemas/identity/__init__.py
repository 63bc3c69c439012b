"""Who is who: users, sign-in, sessions, invitations, email changes, tokens."""
