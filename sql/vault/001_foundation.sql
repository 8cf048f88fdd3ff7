-- Vault foundation: hospitals, trap pool, channels, rotations, seed batches, canaries, exposures.
-- The vault alone knows which target rows are canaries; nothing here is ever written to a target.

CREATE TABLE hospitals (
  name        text PRIMARY KEY,
  locale      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- A number moves burn_in -> available -> assigned -> retired (-> available again after its cool-down).
-- blocked: found in the target's real rows, so it must never be used.
CREATE TABLE trap_numbers (
  id              bigserial PRIMARY KEY,
  e164            text NOT NULL UNIQUE,
  region          text NOT NULL,
  hospital        text REFERENCES hospitals(name),   -- NULL: shared by every hospital in the vault
  state           text NOT NULL CHECK (state IN ('burn_in', 'available', 'assigned', 'retired', 'blocked')),
  added_at        timestamptz NOT NULL DEFAULT now(),
  burn_in_until   timestamptz,
  retired_at      timestamptz,
  cooldown_until  timestamptz,
  note            text
);
CREATE INDEX trap_numbers_pick ON trap_numbers (state, region, hospital);

CREATE TABLE trap_domains (
  domain      text PRIMARY KEY,
  hospital    text REFERENCES hospitals(name),
  added_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE channels (
  id          bigserial PRIMARY KEY,
  hospital    text NOT NULL REFERENCES hospitals(name),
  kind        text NOT NULL CHECK (kind IN ('export', 'account', 'system', 'ward')),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (hospital, kind, name)
);

CREATE TABLE rotations (
  id            bigserial PRIMARY KEY,
  hospital      text NOT NULL REFERENCES hospitals(name),
  iso_week      text NOT NULL,
  plan          jsonb NOT NULL,
  planned       integer NOT NULL,
  planted       integer NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  UNIQUE (hospital, iso_week)
);

-- The intent record written before a batch touches the target, so an interrupted batch is reconciled.
CREATE TABLE seed_batches (
  id           text PRIMARY KEY,
  hospital     text NOT NULL REFERENCES hospitals(name),
  rotation_id  bigint REFERENCES rotations(id),
  ward         text,
  channels     jsonb NOT NULL,
  state        text NOT NULL CHECK (state IN ('intent', 'planted', 'failed')),
  requested    integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  error        text
);
CREATE INDEX seed_batches_open ON seed_batches (hospital) WHERE state = 'intent';

CREATE TABLE canaries (
  id            text PRIMARY KEY,
  hospital      text NOT NULL REFERENCES hospitals(name),
  batch_id      text NOT NULL REFERENCES seed_batches(id),
  status        text NOT NULL CHECK (status IN ('pending', 'planted', 'retired')),
  iso_week      text NOT NULL,
  ward          text NOT NULL,
  family        jsonb NOT NULL,
  mother_name   text NOT NULL,
  father_name   text,
  mother_phone  text,
  father_phone  text,
  email         text,
  target_keys   jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  planted_at    timestamptz,
  retired_at    timestamptz
);
CREATE INDEX canaries_hospital_week ON canaries (hospital, iso_week);
CREATE INDEX canaries_mother_phone ON canaries (mother_phone);
CREATE INDEX canaries_father_phone ON canaries (father_phone);
CREATE UNIQUE INDEX canaries_email ON canaries (lower(email)) WHERE email IS NOT NULL;

-- Which canary held which trap number when: numbers are reused after their cool-down.
CREATE TABLE trap_assignments (
  id              bigserial PRIMARY KEY,
  trap_number_id  bigint NOT NULL REFERENCES trap_numbers(id),
  canary_id       text NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('mother', 'father')),
  assigned_at     timestamptz NOT NULL DEFAULT now(),
  released_at     timestamptz
);
CREATE INDEX trap_assignments_number ON trap_assignments (trap_number_id, assigned_at);

CREATE TABLE exposures (
  id          bigserial PRIMARY KEY,
  canary_id   text NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
  channel_id  bigint NOT NULL REFERENCES channels(id),
  exposed_at  timestamptz NOT NULL,
  source      text NOT NULL,
  detail      jsonb
);
CREATE INDEX exposures_canary ON exposures (canary_id);
CREATE INDEX exposures_channel ON exposures (channel_id, exposed_at);
