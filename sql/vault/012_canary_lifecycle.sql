-- A canary's life in the target: a rotation schedules its admission, birth and discharge, and
-- `cradle canaries advance` (run every few minutes from cron or a systemd timer) writes each one when
-- it is due, in a target transaction of its own, then marks it done here. started_at (the vault's
-- clock) claims the event before the target write: a claim younger than the lease (10 minutes) belongs
-- to a run at work and is left alone; an older one, not done, is a run that died, and the event is
-- looked for in the target (src/seed/lifecycle.ts), so it is never written twice and never lost.
CREATE TABLE canary_events (
  canary_id   text NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('admission', 'birth', 'discharge')),
  due_at      timestamptz NOT NULL,
  -- The moment the row records (a discharge time), when the hospital's system writes it later than it
  -- happens; NULL: the due time itself.
  occurs_at   timestamptz,
  started_at  timestamptz,
  done_at     timestamptz,
  PRIMARY KEY (canary_id, kind)
);
CREATE INDEX canary_events_due ON canary_events (due_at) WHERE done_at IS NULL;

-- Scheduled: recorded with its trap numbers, not yet in the target (its admission is to come).
ALTER TABLE canaries DROP CONSTRAINT canaries_status_check;
ALTER TABLE canaries ADD CONSTRAINT canaries_status_check CHECK (status IN ('pending', 'scheduled', 'planted', 'retired'));
ALTER TABLE seed_batches DROP CONSTRAINT seed_batches_state_check;
ALTER TABLE seed_batches ADD CONSTRAINT seed_batches_state_check CHECK (state IN ('intent', 'scheduled', 'planted', 'failed'));
