-- Hospital profiles learned by `cradle target profile`: aggregates of the target's real rows (never a
-- value fewer than k families share), dated, per hospital; seeding draws canaries from the latest.
CREATE TABLE target_profiles (
  id              bigserial PRIMARY KEY,
  hospital        text NOT NULL REFERENCES hospitals(name),
  learned_at      timestamptz NOT NULL,
  families        bigint NOT NULL,
  k               integer NOT NULL CHECK (k >= 2),
  mapping_sha256  text NOT NULL,
  profile         jsonb NOT NULL
);
CREATE INDEX target_profiles_latest ON target_profiles (hospital, learned_at DESC, id DESC);
