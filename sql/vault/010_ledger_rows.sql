-- What decides who is blamed is sealed row by row in the ledger: `rows` entries (src/vault/ledger.ts,
-- ROWS) hold a hash of each row of incidents, canaries, channels, exposures, export_rows,
-- export_codewords, code_pools, contact_events (metadata), tripwires and access_blocks, written with the
-- rows. A vault that already holds such rows gets them sealed once, right after this migration, by
-- Cradle (sealRowsBaseline): SQL cannot compute the ledger's canonical JSON. The marker below asks for
-- it; sealed_seq is the ledger head after that baseline (0: there was nothing to do, or it was refused).
CREATE TABLE ledger_rows_baseline (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  requested_at  timestamptz NOT NULL DEFAULT now(),
  sealed_seq    bigint
);
INSERT INTO ledger_rows_baseline (singleton)
SELECT true WHERE EXISTS (SELECT 1 FROM incidents) OR EXISTS (SELECT 1 FROM canaries) OR EXISTS (SELECT 1 FROM channels)
               OR EXISTS (SELECT 1 FROM code_pools) OR EXISTS (SELECT 1 FROM contact_events) OR EXISTS (SELECT 1 FROM access_blocks);
