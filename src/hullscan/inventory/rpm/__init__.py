"""rpm package databases (BerkeleyDB, SQLite, NDB) and the Mariner distroless manifest, in pure Python."""
