-- Access events in blocks. An import stores each batch of events as one row of text (one event per
-- line), not one row per event: per-row storage with an index on time cost the server 2.4 times what
-- psql's COPY of the raw log into a plain table costs (docs/access-logs.md, "Storage"), and the events
-- are only ever read whole, by time span: to skip events already stored and to show an account's lines.
-- What investigations read often, the accesses to canaries, stays one row each in tripwires. The view
-- access_events gives the events back as rows.

ALTER TABLE access_events RENAME TO access_events_006;

CREATE TABLE access_blocks (
  id           bigserial PRIMARY KEY,
  hospital     text NOT NULL,
  import_id    bigint NOT NULL REFERENCES access_imports(id),
  first_line   bigint NOT NULL,
  last_line    bigint NOT NULL,
  from_at      timestamptz NOT NULL,
  to_at        timestamptz NOT NULL,
  events_count integer NOT NULL,
  -- One event per line: line, epoch ms, account, action, scope, records (U+001E between keys), system,
  -- ip; fields separated by U+001F, control characters inside a field stored as spaces.
  events       text NOT NULL
);
CREATE INDEX access_blocks_span ON access_blocks (hospital, to_at);
-- The default compression (pglz) took 80 ms per block of 50,000 events, most of an import's time on the
-- server; lz4 takes 5 ms for the same halving. A server built without lz4 (and PGlite) stores blocks
-- uncompressed instead.
DO $$
BEGIN
  ALTER TABLE access_blocks ALTER COLUMN events SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  ALTER TABLE access_blocks ALTER COLUMN events SET STORAGE EXTERNAL;
END $$;

-- A tripwire carries its event's fields: the trace and `cradle tripwires` read them without the blocks.
ALTER TABLE tripwires ADD COLUMN import_id bigint REFERENCES access_imports(id), ADD COLUMN line bigint,
  ADD COLUMN action text, ADD COLUMN system text, ADD COLUMN ip text;

-- Events stored one row each by 006 move into blocks of up to 50,000.
INSERT INTO access_blocks (hospital, import_id, first_line, last_line, from_at, to_at, events_count, events)
SELECT hospital, import_id, min(line), max(line), min(at), max(at), count(*),
       string_agg(concat_ws(chr(31), line, (extract(epoch FROM at) * 1000)::bigint,
                            regexp_replace(account, '[\x01-\x1f]', ' ', 'g'), regexp_replace(action, '[\x01-\x1f]', ' ', 'g'), scope,
                            array_to_string(array(SELECT regexp_replace(r, '[\x01-\x1f]', ' ', 'g') FROM unnest(records) r), chr(30)),
                            coalesce(regexp_replace(system, '[\x01-\x1f]', ' ', 'g'), ''), coalesce(regexp_replace(ip, '[\x01-\x1f]', ' ', 'g'), '')),
                  chr(10) ORDER BY line)
  FROM access_events_006 GROUP BY hospital, import_id, line / 50000;

UPDATE tripwires t SET import_id = e.import_id, line = e.line, action = e.action, system = e.system, ip = e.ip
  FROM access_events_006 e WHERE e.id = t.event_id;
ALTER TABLE tripwires ALTER COLUMN import_id SET NOT NULL, ALTER COLUMN line SET NOT NULL, ALTER COLUMN action SET NOT NULL;
ALTER TABLE tripwires DROP COLUMN event_id;
ALTER TABLE tripwires ADD UNIQUE (import_id, line, canary_id);
DROP TABLE access_events_006;

-- The events as rows, for queries and investigators.
CREATE FUNCTION access_block_events(b access_blocks)
RETURNS TABLE (line bigint, at timestamptz, account text, action text, scope text, records text[], system text, ip text)
LANGUAGE sql STABLE AS $$
  SELECT x.f[1]::bigint, timestamptz 'epoch' + x.f[2]::bigint * interval '1 millisecond', x.f[3], x.f[4], x.f[5],
         coalesce(string_to_array(nullif(x.f[6], ''), chr(30)), '{}'), nullif(x.f[7], ''), nullif(x.f[8], '')
    FROM string_to_table(b.events, chr(10)) AS e(text)
   CROSS JOIN LATERAL (SELECT string_to_array(e.text, chr(31)) AS f) x
$$;

CREATE VIEW access_events AS
SELECT b.hospital, b.import_id, e.* FROM access_blocks b CROSS JOIN LATERAL access_block_events(b) e;

-- The events of one hospital in [since, until): only the blocks whose span meets it are unpacked (a
-- condition on the view's `at` is checked after unpacking every block).
CREATE FUNCTION access_events_between(hospital text, since timestamptz, until timestamptz)
RETURNS SETOF access_events LANGUAGE sql STABLE AS $$
  SELECT b.hospital, b.import_id, e.*
    FROM access_blocks b CROSS JOIN LATERAL access_block_events(b) e
   WHERE b.hospital = access_events_between.hospital AND b.to_at >= since AND b.from_at < until AND e.at >= since AND e.at < until
$$;
