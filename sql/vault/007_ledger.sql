-- The evidence ledger: every piece of evidence and every step taken with it, hash-chained. Each entry
-- holds the hash of its content and the hash of the entry before it, so an entry altered, removed or
-- moved breaks the chain from there on (`cradle verify`).
CREATE TABLE ledger (
  seq           bigint PRIMARY KEY,
  at            timestamptz NOT NULL,
  kind          text NOT NULL,      -- contact, hit, export, scan, import, trace, report, …
  ref           text NOT NULL,      -- the id of what it is about (contact event id, export id, …)
  incident_id   text,               -- the incident it belongs to, where there is one
  actor         text,               -- who ran it: OS user, operator, or the service
  content       jsonb NOT NULL,
  content_hash  text NOT NULL,
  prev_hash     text NOT NULL,
  hash          text NOT NULL UNIQUE
);
CREATE INDEX ledger_ref ON ledger (kind, ref);
CREATE INDEX ledger_incident ON ledger (incident_id) WHERE incident_id IS NOT NULL;

-- What the vault already held when the ledger began: that evidence was never sealed, and `cradle verify`
-- counts it apart instead of calling it unrecorded. Later rows have no such excuse.
CREATE TABLE ledger_baseline (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  at           timestamptz NOT NULL DEFAULT now(),
  contact_max  bigint NOT NULL,     -- triaged contacts up to this id
  hit_max      bigint NOT NULL,
  import_max   bigint NOT NULL,
  export_ids   text[] NOT NULL,
  scan_ids     text[] NOT NULL
);
INSERT INTO ledger_baseline (contact_max, hit_max, import_max, export_ids, scan_ids) VALUES (
  (SELECT coalesce(max(id), 0) FROM contact_events WHERE triaged_at IS NOT NULL),
  (SELECT coalesce(max(id), 0) FROM hits),
  (SELECT coalesce(max(id), 0) FROM access_imports WHERE state = 'done'),
  (SELECT coalesce(array_agg(id), '{}') FROM exports),
  (SELECT coalesce(array_agg(id), '{}') FROM incidents WHERE source = 'scan')
);
