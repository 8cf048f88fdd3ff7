-- A contact on a trap number several live canaries share (pool.sharing "shared") that names no family
-- and gives no birth date cannot be resolved to one canary: its hit keeps the set of canaries it may
-- be about, and `cradle trace` uses the set (docs/trace.md, "Ambiguous contacts"). canary_id is then
-- one of them (the latest to take the number), kept for the incident's grouping and alerts; NULL
-- candidates: the hit is resolved to canary_id.
ALTER TABLE hits ADD COLUMN candidates text[] CHECK (candidates IS NULL OR cardinality(candidates) >= 2);
