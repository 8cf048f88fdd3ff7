-- Access logs: who opened which target records, imported from the hospital's audit trail.
-- Rows that name a canary's record become exposures of that canary to account:<id>; single-record
-- actions on a canary are tripwires (nobody legitimately opens a family that does not exist).

-- One row per file imported; lines_done is the resume point after a crash (every line before it is
-- committed: stored, duplicate or rejected).
CREATE TABLE access_imports (
  id           bigserial PRIMARY KEY,
  hospital     text NOT NULL REFERENCES hospitals(name),
  path         text NOT NULL,
  format       text NOT NULL,
  sha256       text NOT NULL,
  size_bytes   bigint NOT NULL,
  time_zone    text NOT NULL,
  options      jsonb NOT NULL,
  state        text NOT NULL CHECK (state IN ('running', 'done')),
  lines_done   bigint NOT NULL DEFAULT 0,
  added        bigint NOT NULL DEFAULT 0,
  duplicates   bigint NOT NULL DEFAULT 0,
  rejected     bigint NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  UNIQUE (hospital, sha256, format, options)
);

-- The same event in two overlapping files has the same key (a hash of its normalised fields), so it is
-- stored once. The import checks keys against the events already stored in the batch's time span
-- (src/vault/access.ts): a unique index on the key made every insert a random index probe, most of
-- the import's time; the index on time only ever grows at its right edge, as logs are written in order.
CREATE TABLE access_events (
  id         bigserial PRIMARY KEY,
  hospital   text NOT NULL,
  event_key  uuid NOT NULL,
  at         timestamptz NOT NULL,
  account    text NOT NULL,
  action     text NOT NULL,
  scope      text NOT NULL CHECK (scope IN ('single', 'bulk')),
  records    text[] NOT NULL,
  system     text,
  ip         text,
  import_id  bigint NOT NULL,
  line       bigint NOT NULL
);
CREATE INDEX access_events_at ON access_events (hospital, at);

-- An access event that touched a canary's record.
CREATE TABLE tripwires (
  id          bigserial PRIMARY KEY,
  event_id    bigint NOT NULL REFERENCES access_events(id),
  canary_id   text NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
  hospital    text NOT NULL,
  account     text NOT NULL,
  at          timestamptz NOT NULL,
  scope       text NOT NULL CHECK (scope IN ('single', 'bulk')),
  UNIQUE (event_id, canary_id)
);
CREATE INDEX tripwires_at ON tripwires (hospital, at);
CREATE INDEX tripwires_canary ON tripwires (canary_id);

-- Tripwire alerts go through the same outbox as hit alerts.
ALTER TABLE alert_outbox ADD COLUMN tripwire_id bigint REFERENCES tripwires(id);
CREATE UNIQUE INDEX alert_outbox_tripwire ON alert_outbox (tripwire_id, channel) WHERE tripwire_id IS NOT NULL;

-- Lines an import could not read, kept with the import so a resumed run writes the same reject file.
CREATE TABLE access_rejects (
  import_id  bigint NOT NULL REFERENCES access_imports(id),
  line       bigint NOT NULL,
  reason     text NOT NULL,
  text       text NOT NULL,
  PRIMARY KEY (import_id, line)
);
