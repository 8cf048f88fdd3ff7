-- Incidents and what `cradle scan` found: the files it read and every canary match, with its place.

CREATE TABLE incidents (
  id          text PRIMARY KEY,
  source      text NOT NULL CHECK (source IN ('scan', 'hits')),
  title       text NOT NULL,
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  summary     jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE scan_files (
  incident_id  text NOT NULL REFERENCES incidents(id),
  file         text NOT NULL,
  sha256       text NOT NULL,
  bytes        bigint NOT NULL,
  format       text NOT NULL,
  encoding     text NOT NULL,
  records      bigint NOT NULL,
  warnings     jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (incident_id, file)
);

CREATE TABLE scan_matches (
  id           bigserial PRIMARY KEY,
  incident_id  text NOT NULL REFERENCES incidents(id),
  canary_id    text NOT NULL REFERENCES canaries(id),
  file         text NOT NULL,
  place        text NOT NULL,     -- "line 12", "sheet 名单 row 4"
  column_name  text,
  kinds        text[] NOT NULL,   -- what matched: phone, masked-phone, email, name, …
  matched      text NOT NULL,
  confidence   real NOT NULL,
  reason       text NOT NULL
);
CREATE INDEX scan_matches_incident ON scan_matches (incident_id, canary_id);
