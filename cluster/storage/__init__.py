"""PostgreSQL: users, the request log, feedback, archived sessions, and the migrations."""
