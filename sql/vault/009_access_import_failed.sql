-- An access-log import that stops on an error says so: state 'failed' with the reason, instead of
-- staying 'running' as if a process were still at it. The next run of the same import resumes it.
ALTER TABLE access_imports DROP CONSTRAINT access_imports_state_check;
ALTER TABLE access_imports ADD CONSTRAINT access_imports_state_check CHECK (state IN ('running', 'done', 'failed'));
ALTER TABLE access_imports ADD COLUMN error text;
