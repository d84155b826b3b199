DELETE FROM advisory_locks WHERE name = 'jobs.claim';
DROP TABLE one_time_tokens;
DROP TABLE jobs;
