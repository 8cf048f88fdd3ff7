-- Exports: every file that leaves the hospital, with the canaries made for it alone.

CREATE TABLE exports (
  id            text PRIMARY KEY,
  hospital      text NOT NULL REFERENCES hospitals(name),
  channel_id    bigint NOT NULL REFERENCES channels(id),
  operator      text,
  query         text NOT NULL,
  params        jsonb NOT NULL,
  format        text NOT NULL,
  file_name     text NOT NULL,
  row_count     integer NOT NULL,   -- the real rows
  canary_count  integer NOT NULL,
  sha256        text NOT NULL,
  bytes         bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exports_channel ON exports (channel_id, created_at);

-- A canary comes from a seed batch (planted in the target) or from one export (written to its file only).
ALTER TABLE canaries ALTER COLUMN batch_id DROP NOT NULL;
ALTER TABLE canaries ADD COLUMN export_id text REFERENCES exports(id);
ALTER TABLE canaries ADD CONSTRAINT canaries_one_origin CHECK ((batch_id IS NULL) <> (export_id IS NULL));
CREATE INDEX canaries_export ON canaries (export_id) WHERE export_id IS NOT NULL;

-- Where each canary sits in its export file (1-based data row), for the manifest.
CREATE TABLE export_rows (
  export_id   text NOT NULL REFERENCES exports(id),
  canary_id   text NOT NULL REFERENCES canaries(id),
  row_number  integer NOT NULL,
  PRIMARY KEY (export_id, canary_id)
);
