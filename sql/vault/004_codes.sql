-- Code pools: canaries shared by many exports. Each export that asks for a code gets a codeword, a
-- distinct set of w of its pool's L canaries, instead of canaries of its own (docs/codes.md).
-- The construction (Reed-Solomon over the prime field GF(p), as Kautz and Singleton did for
-- superimposed codes): the pool's L = w * p canaries are w blocks of p; codeword m is the polynomial
-- f whose coefficients are the base-p digits of m (degree < k), and holds canary f(x) of block x for
-- x = 0..w-1. Two codewords share at most k - 1 canaries.

CREATE TABLE code_pools (
  id            text PRIMARY KEY,
  hospital      text NOT NULL REFERENCES hospitals(name),
  construction  text NOT NULL CHECK (construction = 'reed-solomon'),
  weight        integer NOT NULL CHECK (weight >= 2),   -- w: canaries per export
  field         integer NOT NULL,                       -- p: a prime >= w, canaries per block
  degree        integer NOT NULL CHECK (degree >= 1),   -- k: codewords are polynomials of degree < k
  length        integer NOT NULL,                       -- L = w * p canaries in the pool
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (field >= weight AND length = weight * field)
);
CREATE INDEX code_pools_hospital ON code_pools (hospital, created_at);

-- A canary now comes from exactly one of: a seed batch, one export, or a code pool (at one position).
ALTER TABLE canaries ADD COLUMN code_pool_id text REFERENCES code_pools(id);
ALTER TABLE canaries ADD COLUMN code_position integer;
ALTER TABLE canaries DROP CONSTRAINT canaries_one_origin;
ALTER TABLE canaries ADD CONSTRAINT canaries_one_origin CHECK (num_nonnulls(batch_id, export_id, code_pool_id) = 1);
ALTER TABLE canaries ADD CONSTRAINT canaries_code_position CHECK ((code_pool_id IS NULL) = (code_position IS NULL));
CREATE UNIQUE INDEX canaries_code ON canaries (code_pool_id, code_position) WHERE code_pool_id IS NOT NULL;

-- The codeword each code export holds: never given to two exports of a pool.
CREATE TABLE export_codewords (
  export_id  text PRIMARY KEY REFERENCES exports(id),
  pool_id    text NOT NULL REFERENCES code_pools(id),
  codeword   integer NOT NULL CHECK (codeword >= 0),    -- m
  positions  integer[] NOT NULL,                         -- the pool positions it holds, block by block
  UNIQUE (pool_id, codeword)
);
