-- SMS inboxes Cradle follows (Gammu SMSD's files and SQL backends, src/ingest/gammu-source.ts): which
-- inbox files or rows it has consumed, so that a re-run or the next poll adds nothing and never warns
-- twice about the same bad file. A part of a multi-part message still waiting for its other parts is
-- not listed: it is read again at the next poll. `source` names the inbox (gammu-files:<folder> or
-- gammu-sql:<host:port/database>), `item` the file name or the row's ID.
CREATE TABLE sms_inbox_items (
  source     text NOT NULL,
  item       text NOT NULL,
  outcome    text NOT NULL CHECK (outcome IN ('recorded', 'duplicate', 'rejected')),
  contact_id bigint REFERENCES contact_events (id),
  reason     text,
  seen_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, item)
);

-- For an SQL inbox: every row with an ID at or below `position` has been consumed, so a poll reads
-- only the rows above it (those waiting for a missing part keep it below them).
CREATE TABLE sms_inbox_cursors (
  source     text PRIMARY KEY,
  position   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
