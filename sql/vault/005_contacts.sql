-- Contacts with the traps: every call, text, e-mail, letter or visit, kept as evidence exactly as it
-- arrived, before anything is done with it; what triage made of them (hits); and the alert outbox.

CREATE TABLE contact_events (
  id            bigserial PRIMARY KEY,
  source        text NOT NULL,        -- twilio-sms, twilio-voice, telnyx, generic, smtp, cdr, mail, manual
  provider_id   text,                 -- MessageSid, CallSid, Telnyx event id, Message-ID, CDR uniqueid: retries share it
  kind          text NOT NULL CHECK (kind IN ('sms', 'call', 'email', 'visit', 'letter', 'other')),
  from_address  text,                 -- the caller's number (E.164 where known) or the sender's address
  to_address    text NOT NULL,        -- the trap number (E.164) or trap mailbox it reached
  occurred_at   timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  body          text,                 -- SMS text, call transcript, e-mail text, a note
  remote_addr   text,
  headers       jsonb NOT NULL DEFAULT '{}',
  raw           bytea NOT NULL,       -- the request body or message, byte for byte
  sha256        text NOT NULL,        -- of raw
  triaged_at    timestamptz,          -- set when matched and judged; a crash before leaves it to redo
  UNIQUE (source, provider_id)
);
CREATE INDEX contact_events_untriaged ON contact_events (id) WHERE triaged_at IS NULL;
CREATE INDEX contact_events_to ON contact_events (to_address, occurred_at);
CREATE INDEX contact_events_from ON contact_events (from_address, occurred_at);

CREATE TABLE hits (
  id           bigserial PRIMARY KEY,
  event_id     bigint NOT NULL REFERENCES contact_events(id),
  canary_id    text NOT NULL REFERENCES canaries(id),
  confidence   real NOT NULL,
  reasons      jsonb NOT NULL,        -- [{ reason, weight }]: why this confidence
  incident_id  text REFERENCES incidents(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, canary_id)
);
CREATE INDEX hits_incident ON hits (incident_id);

-- Alerts are written with the hit, in its transaction, and delivered by a worker: never lost, never
-- sent twice for the same hit and channel.
CREATE TABLE alert_outbox (
  id               bigserial PRIMARY KEY,
  hit_id           bigint REFERENCES hits(id),
  incident_id      text REFERENCES incidents(id),
  channel          text NOT NULL,     -- email, webhook, slack, teams, or a digest of them
  payload          jsonb NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (hit_id, channel)
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE state = 'pending';
