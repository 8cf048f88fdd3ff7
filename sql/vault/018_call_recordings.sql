-- Call recordings (src/vault/recordings.ts): the audio of a call, kept as evidence with its hash and
-- linked to the call's contact event. A Twilio recording is stored when its callback arrives, its audio
-- fetched from RecordingUrl (audio stays NULL, with fetch_error, until a fetch succeeds); an Asterisk
-- MixMonitor file is stored from its path. What was said in it (the provider's transcription or the
-- output of the user's speech-to-text command) is a further contact event of the same call, whose
-- headers name the recording, so that triage reads it as it reads an SMS.
CREATE TABLE call_recordings (
  id               bigserial PRIMARY KEY,
  contact_id       bigint NOT NULL REFERENCES contact_events (id),
  source           text NOT NULL,        -- twilio, asterisk
  provider_id      text NOT NULL,        -- RecordingSid, or call-<contact id>:sha256:<hex> of a file
  location         text,                 -- RecordingUrl, or the file's path as referenced
  duration_seconds integer,
  content_type     text,
  audio            bytea,                -- the audio, byte for byte; NULL while a fetch is pending
  sha256           text,                 -- of audio
  fetch_error      text,
  callback         bytea,                -- the provider's callback body, byte for byte
  created_at       timestamptz NOT NULL DEFAULT now(),
  stored_at        timestamptz,          -- when the audio was stored
  UNIQUE (source, provider_id)
);
CREATE INDEX call_recordings_contact ON call_recordings (contact_id);
CREATE INDEX call_recordings_pending ON call_recordings (id) WHERE audio IS NULL;
