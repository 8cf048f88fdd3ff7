-- An access-log import can be taken back (`cradle logs remove`, src/accesslog/remove.ts): its event
-- blocks, tripwires, exposures and rejected lines are deleted, its pending tripwire alerts cancelled,
-- and its row stays, marked removed, with who removed it, when, why and what went (also sealed in the
-- evidence ledger). A removed import no longer holds its file's place: the same file with the same
-- options can be imported again (a corrected file, or the same one after a mistake elsewhere).

ALTER TABLE access_imports DROP CONSTRAINT access_imports_state_check;
ALTER TABLE access_imports ADD CONSTRAINT access_imports_state_check CHECK (state IN ('running', 'done', 'failed', 'removed'));
ALTER TABLE access_imports
  ADD COLUMN removed_at     timestamptz,
  ADD COLUMN removed_by     text,
  ADD COLUMN removal_reason text,
  -- What the removal deleted: {"events", "blocks", "tripwires", "exposures", "channels", "rejects",
  -- "alerts_cancelled", "alerts_kept"} (counts).
  ADD COLUMN removed        jsonb;
ALTER TABLE access_imports ADD CONSTRAINT access_imports_removed_check
  CHECK ((state = 'removed') = (removed_at IS NOT NULL AND removal_reason IS NOT NULL AND removed IS NOT NULL));

ALTER TABLE access_imports DROP CONSTRAINT access_imports_hospital_sha256_format_options_key;
CREATE UNIQUE INDEX access_imports_live ON access_imports (hospital, sha256, format, options) WHERE state <> 'removed';

-- A tripwire alert not sent yet when its import is removed is cancelled, not deleted: the outbox keeps
-- what was queued (its payload names the tripwire), and the alert worker only sends pending ones.
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_state_check;
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_state_check CHECK (state IN ('pending', 'sent', 'failed', 'cancelled'));
