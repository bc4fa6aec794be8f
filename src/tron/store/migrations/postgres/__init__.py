"""PostgreSQL schema migrations: the `NNNN_name.sql` files here, applied in order, each once."""
