-- What triage needs to know about a contact's sender, kept up to date instead of read from the
-- sender's whole history for every contact (issue 18: a dialer's n-th contact cost O(n)). Both tables
-- are derived from history, rebuilt here from it, and checked against it by `cradle verify`
-- (src/vault/sender-figures.ts).
--
-- sender_canaries: the canaries each sender has active hits on, and how many. Kept by a trigger on
-- hits (a hit made, dismissed, restored or removed), in the transaction that changes the hit.
CREATE TABLE sender_canaries (
  from_address text NOT NULL,
  canary_id    text NOT NULL,
  active_hits  integer NOT NULL CHECK (active_hits > 0),
  PRIMARY KEY (from_address, canary_id)
);

-- sender_numbers: the phone numbers each sender contacted that no canary had held when it contacted
-- them (a dialer's mark), with its first and last such contact; triaged contacts only (triage adds a
-- batch's contacts in the transaction that marks them triaged, and reads the untriaged ones from
-- contact_events). A trap assignment dated back before a contact already counted makes the trigger
-- below recount that number from history.
CREATE TABLE sender_numbers (
  from_address text NOT NULL,
  to_address   text NOT NULL,
  first_at     timestamptz NOT NULL,
  last_at      timestamptz NOT NULL,
  PRIMARY KEY (from_address, to_address)
);
CREATE INDEX sender_numbers_to ON sender_numbers (to_address);

-- A canary's hits (triage looks for an open incident on the same canary for every hit it makes).
CREATE INDEX hits_canary ON hits (canary_id);

CREATE FUNCTION sender_canaries_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sender text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
    SELECT e.from_address INTO sender FROM contact_events e WHERE e.id = OLD.event_id;
    IF sender IS NOT NULL THEN
      UPDATE sender_canaries SET active_hits = active_hits - 1 WHERE from_address = sender AND canary_id = OLD.canary_id AND active_hits > 1;
      IF NOT FOUND THEN
        DELETE FROM sender_canaries WHERE from_address = sender AND canary_id = OLD.canary_id;
      END IF;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
    SELECT e.from_address INTO sender FROM contact_events e WHERE e.id = NEW.event_id;
    IF sender IS NOT NULL THEN
      INSERT INTO sender_canaries (from_address, canary_id, active_hits) VALUES (sender, NEW.canary_id, 1)
      ON CONFLICT (from_address, canary_id) DO UPDATE SET active_hits = sender_canaries.active_hits + 1;
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER hits_sender_canaries AFTER INSERT OR DELETE OR UPDATE OF status, canary_id, event_id ON hits
  FOR EACH ROW EXECUTE FUNCTION sender_canaries_track();

-- The numbers of new assignments recounted from the triaged contacts that reached them.
CREATE FUNCTION sender_numbers_recount() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  numbers text[];
BEGIN
  SELECT array_agg(DISTINCT t.e164) INTO numbers FROM new_assignments a JOIN trap_numbers t ON t.id = a.trap_number_id
   WHERE EXISTS (SELECT 1 FROM sender_numbers n WHERE n.to_address = t.e164 AND n.last_at >= a.assigned_at);
  IF numbers IS NULL THEN
    RETURN NULL;
  END IF;
  DELETE FROM sender_numbers WHERE to_address = ANY(numbers);
  INSERT INTO sender_numbers (from_address, to_address, first_at, last_at)
  SELECT e.from_address, e.to_address, min(e.occurred_at), max(e.occurred_at) FROM contact_events e
   WHERE e.to_address = ANY(numbers) AND e.triaged_at IS NOT NULL AND e.from_address IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id
                      WHERE t.e164 = e.to_address AND a.assigned_at <= e.occurred_at)
   GROUP BY e.from_address, e.to_address;
  RETURN NULL;
END $$;

CREATE TRIGGER trap_assignments_sender_numbers AFTER INSERT ON trap_assignments
  REFERENCING NEW TABLE AS new_assignments FOR EACH STATEMENT EXECUTE FUNCTION sender_numbers_recount();

-- From history, as triage would have kept them.
INSERT INTO sender_canaries (from_address, canary_id, active_hits)
SELECT e.from_address, h.canary_id, count(*) FROM hits h JOIN contact_events e ON e.id = h.event_id
 WHERE h.status = 'active' AND e.from_address IS NOT NULL
 GROUP BY e.from_address, h.canary_id;

INSERT INTO sender_numbers (from_address, to_address, first_at, last_at)
SELECT e.from_address, e.to_address, min(e.occurred_at), max(e.occurred_at) FROM contact_events e
 WHERE e.triaged_at IS NOT NULL AND e.from_address IS NOT NULL AND position('@' in e.to_address) = 0
   AND NOT EXISTS (SELECT 1 FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id
                    WHERE t.e164 = e.to_address AND a.assigned_at <= e.occurred_at)
 GROUP BY e.from_address, e.to_address;
