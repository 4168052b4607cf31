"""Games shipped with the server, each written against gameserver.rules only."""
