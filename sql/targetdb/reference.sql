-- Reference newborn-records schema: the shape Cradle's demo hospital uses and the mapping
-- fixtures/mappings/reference.json describes. One family row per mother, one birth row per baby.

CREATE TABLE families (
  family_id          bigserial PRIMARY KEY,
  mother_name        text NOT NULL,
  mother_birth_date  date,
  mother_phone       text,
  father_name        text,
  father_phone       text,
  email              text,
  district           text,
  address            text,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX families_mother_phone ON families (mother_phone);
CREATE INDEX families_father_phone ON families (father_phone);
CREATE INDEX families_email ON families (email);

CREATE TABLE births (
  birth_id       bigserial PRIMARY KEY,
  family_id      bigint NOT NULL REFERENCES families (family_id),
  medical_record text NOT NULL UNIQUE,
  baby_name      text,
  sex            char(1) NOT NULL CHECK (sex IN ('M', 'F')),
  birth_time     timestamptz NOT NULL,
  weight_g       integer NOT NULL,
  hospital       text NOT NULL,
  ward           text NOT NULL,
  admitted_at    timestamptz NOT NULL,
  discharged_at  timestamptz
);
CREATE INDEX births_family ON births (family_id);
CREATE INDEX births_birth_time ON births (birth_time);
