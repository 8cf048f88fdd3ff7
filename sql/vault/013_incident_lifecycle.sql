-- An incident's life cycle (`cradle incidents close|reopen|dismiss|merge|note`, `cradle hits dismiss|restore`):
-- an incident is open, closed, dismissed (not a leak: a robocall, a wrong number) or merged into another
-- (its hits moved there); a hit is active or dismissed (left out of traces). Who did it, when and why is
-- in the evidence ledger (kinds `incident` and `hit-status`, docs/ledger.md), written in the same
-- transaction as the change.
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check CHECK (status IN ('open', 'closed', 'dismissed', 'merged'));
ALTER TABLE incidents ADD COLUMN merged_into text REFERENCES incidents(id);
ALTER TABLE incidents ADD CONSTRAINT incidents_merged_into_check CHECK ((status = 'merged') = (merged_into IS NOT NULL));
CREATE INDEX incidents_merged_into ON incidents (merged_into) WHERE merged_into IS NOT NULL;

ALTER TABLE hits ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dismissed'));
