DROP TABLE advisory_locks;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
